#!/usr/bin/env node
// Reference values for Keel's indicators from two independent JavaScript libraries, pinned in package-lock.json:
// technicalindicators 3.1.0 ("ti") and trading-signals 8.3.0 ("ts").
//
//   node oracle.mjs DATA_FILE SPEC [SPEC ...]
//
// DATA_FILE is a CSV with a header naming High, Low and Close (backtrader or Yahoo, as Keel reads them). Each SPEC is
// a Keel indicator spec with every parameter written out, e.g. sma:30 or macd:12,26,9. Prints one JSON document:
//   { file, bars, decimals, series: [ { spec, line, source, kind, skip, firstAgrees, note, values: [number|null per bar] } ] }
// values are aligned with the bars (null where the library gives nothing). kind says how a series compares:
//   exact  - the library follows the same definition, seeding and warm-up as Keel: compare every bar;
//   seeded - same recurrence, different seed (e.g. an EMA started from the first price): compare from bar `skip` on,
//            where the seed's weight has fallen below 1e-14 (skip = stages x ln(1e-14) / ln(1 - alpha));
//   psar   - technicalindicators' PSAR starts its first trade differently; compare after the second bar at which
//            both reverse together (from there on both follow the same trade with the same extreme point);
//   rounded - the library rounds its output to `decimals` decimals: compare to within half a unit of the last one.
// firstAgrees: the library's first value falls on the same bar as Keel's (a warm-up check).
//
// Besides the indicator specs, `cross:FAST,SLOW` asks for the crossover of SMA(FAST) and SMA(SLOW) of the closes
// (FAST 1 is the close itself), one line `cross`: +1 on a cross up, -1 on a cross down, 0 otherwise, from bar SLOW on.
// The two lines are compared exactly, as integers: SLOW·(sum of FAST closes) against FAST·(sum of SLOW closes).
//
// Prices are fed to the libraries as exact integers (the file's decimals shifted away, e.g. 10.53 -> 1053 with
// 2 decimals) and price-like outputs are scaled back. Keel subtracts exact fixed-point prices; doing the same here
// keeps ties exact (an up-move equal to a down-move in ADX, equal highs in Aroon) instead of leaving them to double
// rounding, which differs between 10.7 - 10.5 and 10.3 - 10.1. Every indicator below is scale-free or scales
// linearly with prices, so shifting the decimals changes nothing else.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as ts from 'trading-signals';

const require = createRequire(import.meta.url);
const ti = require('technicalindicators');

function fail(message) {
  process.stderr.write(`oracle: ${message}\n`);
  process.exit(2);
}

const [file, ...specs] = process.argv.slice(2);
if (!file || specs.length === 0) {
  fail('usage: node oracle.mjs DATA_FILE SPEC [SPEC ...]');
}

// ---- data -------------------------------------------------------------------------------------------------------
const lines = readFileSync(file, 'utf8').split(/\r?\n/).filter(l => l.trim().length > 0);
const header = lines[0].split(',').map(h => h.trim().toLowerCase());
const col = name => {
  const i = header.indexOf(name);
  if (i < 0) fail(`${file}: header has no ${name} column`);
  return i;
};
const [hi, lo, cl] = [col('high'), col('low'), col('close')];
const text = lines.slice(1).map(l => l.split(','));
const decimalsOf = s => (s.includes('.') ? s.trim().split('.')[1].length : 0);
let decimals = 0;
for (const row of text) {
  for (const i of [hi, lo, cl]) decimals = Math.max(decimals, decimalsOf(row[i]));
}
const scale = 10 ** decimals;
const toUnits = s => {
  const [whole, frac = ''] = s.trim().split('.');
  const v = Number(whole + frac.padEnd(decimals, '0'));
  if (!Number.isSafeInteger(v)) fail(`${file}: price ${s} does not fit a safe integer at ${decimals} decimals`);
  return v;
};
const bars = text.map(row => ({ high: toUnits(row[hi]), low: toUnits(row[lo]), close: toUnits(row[cl]) }));
const closes = bars.map(b => b.close);
const n = bars.length;

// ---- helpers ----------------------------------------------------------------------------------------------------
const out = [];
const finite = v => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const price = v => (finite(v) === null ? null : v / scale);
const plain = v => finite(v);

function add(spec, line, source, kind, values, { skip = 0, firstAgrees = true, note = '', decimals = 0 } = {}) {
  out.push({ spec, line, source, kind, skip, firstAgrees, note, decimals, values });
}

// Sliding windows of `period` values: f(window) from bar period - 1 on, null before.
const windowed = (input, period, f) => input.map((_, i) => (i + 1 < period ? null : f(input.slice(i + 1 - period, i + 1))));

// Running sums of the last `period` closes (exact integers), null before the window is full.
const sums = period => windowed(closes, period, w => w.reduce((a, b) => a + b, 0));

// Streams a technicalindicators object bar by bar through nextValue; `pick` turns its result into a number.
function tiStream(indicator, input, pick) {
  return input.map(x => {
    const r = indicator.nextValue(x);
    return r === undefined || r === null ? null : pick(r);
  });
}

// Streams a trading-signals object: only results it calls stable count.
function tsStream(indicator, input, pick) {
  return input.map(x => {
    indicator.update(x, false);
    if (!indicator.isStable) return null;
    const r = indicator.getResult();
    return r === undefined || r === null ? null : pick(r);
  });
}

// Bars after which a seed with weight 1 has decayed below 1e-14 through `stages` smoothings of factor (1 - alpha).
const decay = (alpha, stages) => Math.ceil((stages * Math.log(1e-14)) / Math.log(1 - alpha));

function emaChain(period, depth) {
  const emas = Array.from({ length: depth }, () => new ti.EMA({ period, values: [] }));
  return closes.map(x => {
    const levels = [];
    let v = x;
    for (const e of emas) {
      v = e.nextValue(v);
      if (v === undefined) return null;
      levels.push(v);
    }
    return levels;
  });
}

// ---- indicators -------------------------------------------------------------------------------------------------
function run(spec) {
  const [name, rest] = spec.split(':');
  const p = rest === undefined ? [] : rest.split(',').map(Number);
  if (p.some(v => !Number.isFinite(v))) fail(`${spec}: parameters must be numbers`);
  const need = k => {
    if (p.length !== k) fail(`${spec}: write all ${k} parameters`);
  };
  switch (name) {
    case 'sma': {
      need(1);
      add(spec, 'sma', 'ti SMA', 'exact', tiStream(new ti.SMA({ period: p[0], values: [] }), closes, price));
      add(spec, 'sma', 'ts SMA', 'exact', tsStream(new ts.SMA(p[0]), closes, price));
      break;
    }
    case 'ema': {
      need(1);
      add(spec, 'ema', 'ti EMA', 'exact', tiStream(new ti.EMA({ period: p[0], values: [] }), closes, price));
      add(spec, 'ema', 'ts EMA', 'seeded', tsStream(new ts.EMA(p[0]), closes, price), {
        skip: decay(2 / (p[0] + 1), 1), firstAgrees: true, note: 'trading-signals seeds its EMA with the first price, not the SMA of the first period prices',
      });
      break;
    }
    case 'wma': {
      need(1);
      add(spec, 'wma', 'ti WMA', 'exact', tiStream(new ti.WMA({ period: p[0], values: [] }), closes, price));
      add(spec, 'wma', 'ts WMA', 'exact', tsStream(new ts.WMA(p[0]), closes, price));
      break;
    }
    case 'dema':
    case 'tema': {
      need(1);
      const depth = name === 'dema' ? 2 : 3;
      const chain = emaChain(p[0], depth);
      const combine = l => (depth === 2 ? 2 * l[0] - l[1] : 3 * l[0] - 3 * l[1] + l[2]);
      add(spec, name, `ti EMA chain (${name === 'dema' ? '2·e1 − e2' : '3·e1 − 3·e2 + e3'})`, 'exact', chain.map(l => (l === null ? null : combine(l) / scale)), {
        note: 'built from technicalindicators EMAs (SMA-seeded, as TA-Lib); no library in the pair has a TA-Lib-seeded DEMA/TEMA',
      });
      const lib = name === 'dema' ? new ts.DEMA(p[0]) : new ts.TEMA(p[0]);
      add(spec, name, `ts ${name.toUpperCase()}`, 'seeded', tsStream(lib, closes, price), {
        skip: decay(2 / (p[0] + 1), depth + 1), firstAgrees: false, note: 'trading-signals seeds each EMA with its first input',
      });
      break;
    }
    case 'rsi': {
      need(1);
      add(spec, 'rsi', 'ts RSI (Wilder)', 'exact', tsStream(new ts.RSI(p[0]), closes, plain));
      add(spec, 'rsi', 'ti RSI (Wilder, rounded to 2 decimals)', 'rounded', tiStream(new ti.RSI({ period: p[0], values: [] }), closes, plain), {
        decimals: 2, note: 'technicalindicators rounds its RSI to 2 decimals (toFixed(2))',
      });
      break;
    }
    case 'macd': {
      need(3);
      const [fast, slow, signal] = p;
      const make = () => new ti.MACD({ values: [], fastPeriod: fast, slowPeriod: slow, signalPeriod: signal, SimpleMAOscillator: false, SimpleMASignal: false });
      add(spec, 'macd', 'ti MACD (EMA, EMA)', 'exact', tiStream(make(), closes, r => price(r.MACD)));
      add(spec, 'signal', 'ti MACD (EMA, EMA)', 'exact', tiStream(make(), closes, r => price(r.signal)));
      add(spec, 'histogram', 'ti MACD (EMA, EMA)', 'exact', tiStream(make(), closes, r => price(r.histogram)));
      const skip = decay(2 / (slow + 1), 1) + decay(2 / (signal + 1), 1);
      for (const line of ['macd', 'signal', 'histogram']) {
        const m = new ts.MACD(new ts.EMA(fast), new ts.EMA(slow), new ts.EMA(signal));
        add(spec, line, 'ts MACD (EMA, EMA, EMA)', 'seeded', tsStream(m, closes, r => price(r[line])), {
          skip, firstAgrees: false, note: 'trading-signals seeds its EMAs with the first price',
        });
      }
      break;
    }
    case 'bbands': {
      need(2);
      const make = () => new ti.BollingerBands({ period: p[0], stdDev: p[1], values: [] });
      for (const line of ['middle', 'upper', 'lower']) {
        add(spec, line, 'ti BollingerBands', 'exact', tiStream(make(), closes, r => price(r[line])));
        add(spec, line, 'ts BollingerBands', 'exact', tsStream(new ts.BollingerBands(p[0], p[1]), closes, r => price(r[line])));
      }
      break;
    }
    case 'atr': {
      need(1);
      add(spec, 'atr', 'ti ATR (Wilder)', 'exact', tiStream(new ti.ATR({ high: [], low: [], close: [], period: p[0] }), bars, price));
      add(spec, 'atr', 'ts ATR (Wilder)', 'seeded', tsStream(new ts.ATR(p[0]), bars, price), {
        skip: decay(1 / p[0], 1), firstAgrees: false, note: 'trading-signals counts high − low of the first bar as a true range and averages from there',
      });
      break;
    }
    case 'true_range': {
      need(0);
      add(spec, 'true_range', 'ti TrueRange', 'exact', tiStream(new ti.TrueRange({ high: [], low: [], close: [] }), bars, price));
      add(spec, 'true_range', 'ts TR', 'exact', tsStream(new ts.TR(), bars, price), {
        firstAgrees: false, note: 'trading-signals gives high − low for the first bar, which has no previous close',
      });
      break;
    }
    case 'stochastic': {
      need(3);
      const [period, k, d] = p;
      const make = () => new ts.StochasticOscillator({ kPeriod: period, kSlowingPeriod: k, dPeriod: d });
      add(spec, 'k', 'ts StochasticOscillator', 'exact', tsStream(make(), bars, r => r.stochK), {
        firstAgrees: false, note: 'trading-signals gives %K only once %D has a value',
      });
      add(spec, 'd', 'ts StochasticOscillator', 'exact', tsStream(make(), bars, r => r.stochD));
      const tiK = tiStream(new ti.Stochastic({ high: [], low: [], close: [], period, signalPeriod: k }), bars, r => (k === 1 ? plain(r.k) : plain(r.d)));
      add(spec, 'k', 'ti Stochastic (its %D = SMA(k) of raw %K)', 'exact', tiK);
      const dSma = new ti.SMA({ period: d, values: [], format: v => v });
      add(spec, 'd', 'ti SMA(d) of ti Stochastic %K', 'exact', tiK.map(v => (v === null ? null : (dSma.nextValue(v) ?? null))));
      break;
    }
    case 'adx': {
      need(1);
      const make = () => new ti.ADX({ high: [], low: [], close: [], period: p[0] });
      add(spec, 'adx', 'ti ADX (Wilder)', 'exact', tiStream(make(), bars, r => plain(r.adx)));
      for (const [line, key] of [['plus_di', 'pdi'], ['minus_di', 'mdi']]) {
        add(spec, line, 'ti ADX (Wilder)', 'exact', tiStream(make(), bars, r => plain(r[key])), {
          firstAgrees: false, note: 'technicalindicators gives the DI lines only once ADX has a value',
        });
      }
      // Not trading-signals' ADX: when the up-move equals the down-move it counts both as directional movement
      // (Wilder counts neither), and it averages in the first bar; it differs by up to 20 % on real data.
      break;
    }
    case 'cci': {
      need(1);
      add(spec, 'cci', 'ti CCI', 'exact', tiStream(new ti.CCI({ high: [], low: [], close: [], period: p[0] }), bars, plain));
      add(spec, 'cci', 'ts CCI', 'exact', tsStream(new ts.CCI(p[0]), bars, plain));
      break;
    }
    case 'williams_r': {
      need(1);
      add(spec, 'williams_r', 'ts WilliamsR', 'exact', tsStream(new ts.WilliamsR(p[0]), bars, plain));
      add(spec, 'williams_r', 'ti WilliamsR', 'exact', tiStream(new ti.WilliamsR({ high: [], low: [], close: [], period: p[0] }), bars, plain), {
        note: 'technicalindicators gives NaN (skipped) for an empty range',
      });
      break;
    }
    case 'momentum': {
      need(1);
      add(spec, 'momentum', 'ts MOM', 'exact', tsStream(new ts.MOM(p[0]), closes, price));
      break;
    }
    case 'roc': {
      need(1);
      add(spec, 'roc', 'ti ROC', 'exact', tiStream(new ti.ROC({ period: p[0], values: [] }), closes, plain));
      add(spec, 'roc', 'ts ROC × 100', 'exact', tsStream(new ts.ROC(p[0]), closes, v => plain(v * 100)));
      break;
    }
    case 'trix': {
      need(1);
      add(spec, 'trix', 'ti TRIX', 'exact', tiStream(new ti.TRIX({ period: p[0], values: [] }), closes, plain));
      // trading-signals gives r = 100·(t − p)/t (t this bar's triple EMA, p the previous one); Hutson's TRIX is
      // 100·(t − p)/p = r / (1 − r/100), exactly. Its EMAs start from the first input, hence 'seeded'.
      add(spec, 'trix', 'ts TRIX, r / (1 − r/100)', 'seeded', tsStream(new ts.TRIX(p[0]), closes, r => plain(r / (1 - r / 100))), {
        skip: decay(2 / (p[0] + 1), 4), note: 'trading-signals divides by the current triple EMA and seeds its EMAs with the first input',
      });
      break;
    }
    case 'ultimate': {
      need(3);
      const uo = new ts.UltimateOscillator({ shortPeriod: p[0], mediumPeriod: p[1], longPeriod: p[2] });
      add(spec, 'ultimate', 'ts UltimateOscillator', 'exact', tsStream(uo, bars, plain));
      break;
    }
    case 'kama': {
      need(3);
      if (p[1] !== 2 || p[2] !== 30) fail(`${spec}: trading-signals' KAMA has fast 2 and slow 30 built in`);
      add(spec, 'kama', 'ts KAMA', 'exact', tsStream(new ts.KAMA(p[0]), closes, price), {
        firstAgrees: false, note: 'trading-signals also shows the seed (the close at bar period) as a value',
      });
      break;
    }
    case 'aroon': {
      need(1);
      const make = () => new ts.Aroon(p[0]);
      add(spec, 'up', 'ts Aroon', 'exact', tsStream(make(), bars, r => r.aroonUp));
      add(spec, 'down', 'ts Aroon', 'exact', tsStream(make(), bars, r => r.aroonDown));
      break;
    }
    case 'stddev': {
      need(1);
      add(spec, 'stddev', 'ti SD (population)', 'exact', tiStream(new ti.SD({ period: p[0], values: [] }), closes, price));
      add(spec, 'stddev', 'ts getStandardDeviation of each window', 'exact', windowed(closes, p[0], w => price(ts.getStandardDeviation(w))));
      break;
    }
    case 'donchian': {
      need(1);
      for (const line of ['upper', 'middle', 'lower']) {
        add(spec, line, 'ts DonchianChannels', 'exact', tsStream(new ts.DonchianChannels(p[0]), bars, r => price(r[line])));
      }
      const upper = tiStream(new ti.Highest({ period: p[0], values: [] }), bars.map(b => b.high), plain);
      const lower = tiStream(new ti.Lowest({ period: p[0], values: [] }), bars.map(b => b.low), plain);
      add(spec, 'upper', 'ti Highest of highs', 'exact', upper.map(price));
      add(spec, 'lower', 'ti Lowest of lows', 'exact', lower.map(price));
      add(spec, 'middle', 'ti (Highest + Lowest) / 2', 'exact', upper.map((u, i) => (u === null || lower[i] === null ? null : price((u + lower[i]) / 2))));
      break;
    }
    case 'psar': {
      need(2);
      add(spec, 'psar', 'ti PSAR', 'psar', tiStream(new ti.PSAR({ high: [], low: [], step: p[0], max: p[1] }), bars, price), {
        firstAgrees: false, note: 'technicalindicators always starts long from the first bar; Keel (as TA-Lib) picks the side from the first two bars and starts on the second',
      });
      // Not trading-signals' PSAR: it keeps the SAR out of the last two bars only when the bar penetrates it, moves the
      // extreme point before testing for a reversal, and puts the SAR 0.01 below the low after a reversal to long.
      break;
    }
    case 'highest':
    case 'lowest': {
      need(1);
      const Lib = name === 'highest' ? ti.Highest : ti.Lowest;
      const input = bars.map(b => (name === 'highest' ? b.high : b.low));
      add(spec, name, `ti ${name === 'highest' ? 'Highest of highs' : 'Lowest of lows'}`, 'exact', tiStream(new Lib({ period: p[0], values: [] }), input, price));
      const edge = name === 'highest' ? 'upper' : 'lower';
      add(spec, name, `ts DonchianChannels ${edge}`, 'exact', tsStream(new ts.DonchianChannels(p[0]), bars, r => price(r[edge])));
      break;
    }
    case 'cross': {
      need(2);
      const [fast, slow] = p;
      if (!(fast < slow)) fail(`${spec}: FAST must be below SLOW`);
      // SMA(fast) − SMA(slow) has the sign of slow·Σfast − fast·Σslow: exact integers, the same in both languages.
      const fastSums = sums(fast);
      const slowSums = sums(slow);
      const a = fastSums.map((f, i) => (slowSums[i] === null ? null : slow * f));
      const b = slowSums.map(s => (s === null ? null : fast * s));
      const up = new ti.CrossUp({ lineA: [], lineB: [] });
      const down = new ti.CrossDown({ lineA: [], lineB: [] });
      let seenDifference = false;
      add(spec, 'cross', 'ti CrossUp − CrossDown', 'exact', a.map((x, i) => {
        if (x === null) return null;
        const value = (up.nextValue(x, b[i]) ? 1 : 0) - (down.nextValue(x, b[i]) ? 1 : 0);
        // With no earlier bar on the other side technicalindicators counts the first difference as a cross; a cross
        // needs a side to come from, so compare only after the first bar where the lines differ.
        const compare = seenDifference;
        seenDifference ||= x !== b[i];
        return compare ? value : null;
      }), { firstAgrees: false, note: 'technicalindicators counts the first bar where the lines differ as a cross; not compared' });
      add(spec, 'cross', 'ts hasCrossedOver − hasCrossedUnder', 'exact', a.map((x, i) => {
        if (x === null || i === 0 || a[i - 1] === null) return null;
        // trading-signals counts leaving a tie as a cross even when the line came from the same side (touch and
        // bounce); Keel, technicalindicators and backtrader do not. Compared where the bar before was not a tie.
        if (a[i - 1] === b[i - 1]) return null;
        return (ts.hasCrossedOver(a[i - 1], b[i - 1], x, b[i]) ? 1 : 0) - (ts.hasCrossedUnder(a[i - 1], b[i - 1], x, b[i]) ? 1 : 0);
      }), { firstAgrees: false, note: 'trading-signals counts leaving a tie as a cross; bars after a tie are not compared' });
      break;
    }
    default:
      fail(`${spec}: no reference for indicator '${name}'`);
  }
}

for (const spec of specs) run(spec);
process.stdout.write(JSON.stringify({ file, bars: n, decimals, series: out }));
process.stdout.write('\n');
