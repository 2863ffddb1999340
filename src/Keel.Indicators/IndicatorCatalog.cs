using System.Globalization;
using System.Text;
using Keel.Domain;

namespace Keel.Indicators;

/// <summary>An indicator spec that cannot be used; the message names the spec and what is wrong with it.</summary>
public sealed class IndicatorSpecException : Exception
{
    public IndicatorSpecException(string spec, string problem)
        : base($"indicator spec '{spec}': {problem}")
    {
        Spec = spec;
        Problem = problem;
    }

    public IndicatorSpecException()
        : base("bad indicator spec")
    {
        Spec = string.Empty;
        Problem = string.Empty;
    }

    public IndicatorSpecException(string message)
        : base(message)
    {
        Spec = string.Empty;
        Problem = message;
    }

    public IndicatorSpecException(string message, Exception innerException)
        : base(message, innerException)
    {
        Spec = string.Empty;
        Problem = message;
    }

    public string Spec { get; }

    public string Problem { get; }
}

/// <summary>Which part of a bar an indicator reads.</summary>
public enum IndicatorInput
{
    /// <summary>The close (value indicators).</summary>
    Close = 1,

    /// <summary>The high.</summary>
    High = 2,

    /// <summary>The low.</summary>
    Low = 3,

    /// <summary>High, low and close.</summary>
    Bar = 4,

    /// <summary>High and low.</summary>
    HighLow = 5,
}

/// <summary>One positional parameter of an indicator.</summary>
public sealed record IndicatorParameter(string Name, double Default, double Min, double Max, bool WholeNumber, string Description)
{
    internal string DefaultText => Default.ToString(CultureInfo.InvariantCulture);
}

/// <summary>Feeds a bar to a bound indicator.</summary>
internal delegate void BarAction(in Bar bar);

/// <summary>An indicator the catalog knows: its name, positional parameters, output lines and how to build it.</summary>
public sealed class IndicatorDefinition
{
    private readonly Func<double[], IIndicator> _create;
    private readonly Func<IIndicator, BarAction> _bind;
    private readonly Func<IIndicator, Func<int, double>> _read;

    internal IndicatorDefinition(
        string name,
        string summary,
        IndicatorInput input,
        IReadOnlyList<IndicatorParameter> parameters,
        IReadOnlyList<string> lines,
        string warmUp,
        Func<double[], IIndicator> create,
        Func<IIndicator, BarAction> bind,
        Func<IIndicator, Func<int, double>> read)
    {
        Name = name;
        Summary = summary;
        Input = input;
        Parameters = parameters;
        Lines = lines;
        WarmUpText = warmUp;
        _create = create;
        _bind = bind;
        _read = read;
    }

    public string Name { get; }

    public string Summary { get; }

    public IndicatorInput Input { get; }

    /// <summary>Positional parameters, in the order a spec lists them.</summary>
    public IReadOnlyList<IndicatorParameter> Parameters { get; }

    /// <summary>Output line names; one line means the CSV column is the spec itself.</summary>
    public IReadOnlyList<string> Lines { get; }

    /// <summary>When the lines get their first value, in words (e.g. "period + 1 bars").</summary>
    public string WarmUpText { get; }

    /// <summary>The spec with every default written out, e.g. <c>macd:12,26,9</c>.</summary>
    public string DefaultSpec => Parameters.Count == 0 ? Name : $"{Name}:{string.Join(",", Parameters.Select(p => p.DefaultText))}";

    internal IndicatorInstance Create(IndicatorSpec spec)
    {
        var indicator = _create([.. spec.Parameters]);
        return new IndicatorInstance(spec, indicator, _bind(indicator), _read(indicator));
    }
}

/// <summary>
/// A parsed spec, <c>name[:p1,p2,…]</c>: positional parameters in the order the catalog documents, defaults for those
/// omitted at the end or left empty (<c>bbands:,2.5</c>). Parsing checks the name, the count, that each parameter
/// is a number (a whole one for periods) within its range, and the rules between parameters (MACD fast below slow).
/// </summary>
public sealed class IndicatorSpec
{
    private IndicatorSpec(string text, IndicatorDefinition definition, double[] parameters)
    {
        Text = text;
        Definition = definition;
        Parameters = parameters;
    }

    /// <summary>The spec as written (trimmed); it names the output column.</summary>
    public string Text { get; }

    public IndicatorDefinition Definition { get; }

    public string Name => Definition.Name;

    /// <summary>Every parameter, defaults filled in.</summary>
    public IReadOnlyList<double> Parameters { get; }

    /// <summary>Output column names: the spec for one line, <c>spec.line</c> for each of several.</summary>
    public IReadOnlyList<string> Columns => Definition.Lines.Count == 1 ? [Text] : [.. Definition.Lines.Select(l => $"{Text}.{l}")];

    public static IndicatorSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string spec = text.Trim();
        if (spec.Length == 0)
        {
            throw new IndicatorSpecException(text, "it is empty; write name[:p1,p2,…], e.g. sma:30 or macd:12,26,9");
        }

        int colon = spec.IndexOf(':', StringComparison.Ordinal);
        string name = (colon < 0 ? spec : spec[..colon]).Trim();
        var definition = IndicatorCatalog.Find(name) ?? throw new IndicatorSpecException(spec, UnknownName(name));
        var parameters = definition.Parameters;
        string list = colon < 0 ? string.Empty : spec[(colon + 1)..];
        string[] given = list.Trim().Length == 0 ? [] : list.Split(',');
        if (given.Length > parameters.Count)
        {
            string were = given.Length == 1 ? "1 was given" : $"{given.Length} were given";
            throw new IndicatorSpecException(spec, parameters.Count == 0
                ? $"{name} takes no parameters, but {were}"
                : $"{name} takes at most {parameters.Count} parameter{(parameters.Count == 1 ? string.Empty : "s")} ({string.Join(", ", parameters.Select(p => p.Name))}), but {were}");
        }

        var values = new double[parameters.Count];
        for (int i = 0; i < parameters.Count; i++)
        {
            var p = parameters[i];
            string raw = i < given.Length ? given[i].Trim() : string.Empty;
            if (raw.Length == 0)
            {
                values[i] = p.Default;
                continue;
            }

            if (!double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            {
                throw new IndicatorSpecException(spec, $"parameter {i + 1} ({p.Name}) was '{raw}'; it must be {(p.WholeNumber ? "a whole number" : "a number")}");
            }

            if (p.WholeNumber && v != Math.Floor(v))
            {
                throw new IndicatorSpecException(spec, $"parameter {i + 1} ({p.Name}) was {raw}; it must be a whole number");
            }

            if (v < p.Min || v > p.Max)
            {
                throw new IndicatorSpecException(spec, $"parameter {i + 1} ({p.Name}) was {raw}; it must be between {Format(p.Min)} and {Format(p.Max)}");
            }

            values[i] = v;
        }

        var result = new IndicatorSpec(spec, definition, values);
        try
        {
            // Builds it once, so rules between parameters (checked by the constructors) fail here, at parse time.
            definition.Create(result);
        }
        catch (ArgumentException ex)
        {
            string message = ex.ParamName is null ? ex.Message : ex.Message.Replace($" (Parameter '{ex.ParamName}')", string.Empty, StringComparison.Ordinal);
            throw new IndicatorSpecException(spec, message);
        }

        return result;
    }

    /// <summary>A fresh indicator for this spec, bound to the bar field(s) it reads.</summary>
    public IndicatorInstance Create() => Definition.Create(this);

    public override string ToString() => Text;

    private static string Format(double v) => v.ToString(CultureInfo.InvariantCulture);

    private static string UnknownName(string name)
    {
        var known = string.Join(" ", IndicatorCatalog.All.Select(d => d.Name));
        var near = IndicatorCatalog.All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase)
            || string.Equals(d.Name.Replace("_", string.Empty, StringComparison.Ordinal), name.Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));
        return name.Length == 0
            ? $"it has no indicator name; known indicators: {known}"
            : $"unknown indicator '{name}'{(near is null ? string.Empty : $" (did you mean '{near.Name}'?)")}; known indicators: {known}";
    }
}

/// <summary>
/// An indicator built from a spec and bound to bars: value indicators read the close (highest the high, lowest the
/// low), the others the whole bar. <see cref="Value"/> gives each line; NaN until that line has a value.
/// </summary>
public sealed class IndicatorInstance
{
    private readonly BarAction _update;
    private readonly Func<int, double> _read;

    internal IndicatorInstance(IndicatorSpec spec, IIndicator indicator, BarAction update, Func<int, double> read)
    {
        Spec = spec;
        Indicator = indicator;
        _update = update;
        _read = read;
    }

    public IndicatorSpec Spec { get; }

    /// <summary>The underlying indicator (e.g. <see cref="Macd"/>), for its typed properties.</summary>
    public IIndicator Indicator { get; }

    public int LineCount => Spec.Definition.Lines.Count;

    public bool IsReady => Indicator.IsReady;

    public int WarmUp => Indicator.WarmUp;

    public void Update(in Bar bar) => _update(bar);

    /// <summary>Line <paramref name="line"/> (in <see cref="IndicatorDefinition.Lines"/> order); NaN before its warm-up.</summary>
    public double Value(int line) => _read(line);

    public void Reset() => Indicator.Reset();
}

/// <summary>Every indicator a spec can name, with its parameters, defaults, lines and warm-up.</summary>
public static class IndicatorCatalog
{
    private const double MaxPeriod = 100_000;

    private static readonly Dictionary<string, IndicatorDefinition> ByName;

    static IndicatorCatalog()
    {
        All =
        [
            Value("sma", "simple moving average", IndicatorInput.Close, [Period(20)], "period bars", p => new Sma(I(p[0])), (Sma x) => x.Update, x => x.Value),
            Value("ema", "exponential moving average, alpha 2/(period+1), seeded with the SMA of the first period closes", IndicatorInput.Close, [Period(20)], "period bars", p => new Ema(I(p[0])), (Ema x) => x.Update, x => x.Value),
            Value("wma", "linearly weighted moving average (weights 1…period, newest heaviest)", IndicatorInput.Close, [Period(20)], "period bars", p => new Wma(I(p[0])), (Wma x) => x.Update, x => x.Value),
            Value("dema", "double EMA: 2·EMA − EMA(EMA)", IndicatorInput.Close, [Period(20)], "2·period − 1 bars", p => new Dema(I(p[0])), (Dema x) => x.Update, x => x.Value),
            Value("tema", "triple EMA: 3·EMA − 3·EMA(EMA) + EMA(EMA(EMA))", IndicatorInput.Close, [Period(20)], "3·period − 2 bars", p => new Tema(I(p[0])), (Tema x) => x.Update, x => x.Value),
            Value("rsi", "relative strength index, Wilder's smoothing (0…100)", IndicatorInput.Close, [Period(14)], "period + 1 bars", p => new Rsi(I(p[0])), (Rsi x) => x.Update, x => x.Value),
            Lines(
                "macd", "MACD: line = EMA(fast) − EMA(slow), signal = EMA(signal) of the line, histogram = line − signal", IndicatorInput.Close,
                [Period(12, "fast", "fast EMA period"), Period(26, "slow", "slow EMA period, above fast"), Period(9, "signal", "signal EMA period")],
                ["macd", "signal", "histogram"], "slow bars (macd), slow + signal − 1 bars (signal, histogram)",
                p => new Macd(I(p[0]), I(p[1]), I(p[2])), (Macd x) => x.Update, x => line => line switch { 0 => x.Line, 1 => x.Signal, _ => x.Histogram }),
            Lines(
                "bbands", "Bollinger Bands: SMA ± multiplier × population standard deviation", IndicatorInput.Close,
                [Period(20), new IndicatorParameter("multiplier", 2, 0.001, 100, false, "band width in standard deviations")],
                ["middle", "upper", "lower"], "period bars",
                p => new BollingerBands(I(p[0]), p[1]), (BollingerBands x) => x.Update, x => line => line switch { 0 => x.Middle, 1 => x.Upper, _ => x.Lower }),
            Bar("atr", "average true range, Wilder's smoothing", [Period(14)], ["atr"], "period + 1 bars", p => new Atr(I(p[0])), (Atr x) => x.Update, x => _ => x.Value),
            Bar("true_range", "true range: max(high, previous close) − min(low, previous close)", [], ["true_range"], "2 bars", _ => new TrueRange(), (TrueRange x) => x.Update, x => _ => x.Value),
            Bar(
                "stochastic", "stochastic oscillator: %K = SMA(k_smoothing) of 100·(close − lowest low)/(highest high − lowest low), %D = SMA(d_smoothing) of %K; k_smoothing 1 is the fast stochastic",
                [Period(14), Period(3, "k_smoothing", "%K smoothing, 1 for the fast stochastic"), Period(3, "d_smoothing", "%D smoothing")],
                ["k", "d"], "period + k_smoothing − 1 bars (k), period + k_smoothing + d_smoothing − 2 bars (d)",
                p => new Stochastic(I(p[0]), I(p[1]), I(p[2])), (Stochastic x) => x.Update, x => line => line == 0 ? x.K : x.D),
            Bar(
                "adx", "average directional index with +DI and −DI, Wilder's smoothing", [Period(14)], ["adx", "plus_di", "minus_di"],
                "2·period bars (adx), period + 1 bars (plus_di, minus_di)", p => new Adx(I(p[0])), (Adx x) => x.Update, x => line => line switch { 0 => x.Value, 1 => x.PlusDi, _ => x.MinusDi }),
            Bar("cci", "commodity channel index: (TP − SMA(TP)) / (0.015 × mean deviation), TP = (high + low + close)/3", [Period(20)], ["cci"], "period bars", p => new Cci(I(p[0])), (Cci x) => x.Update, x => _ => x.Value),
            Bar("williams_r", "Williams %R: −100·(highest high − close)/(highest high − lowest low) (−100…0)", [Period(14)], ["williams_r"], "period bars", p => new WilliamsR(I(p[0])), (WilliamsR x) => x.Update, x => _ => x.Value),
            Value("momentum", "momentum: close − close period bars ago", IndicatorInput.Close, [Period(10)], "period + 1 bars", p => new Momentum(I(p[0])), (Momentum x) => x.Update, x => x.Value),
            Value("roc", "rate of change in percent: 100·(close − close period bars ago)/close period bars ago", IndicatorInput.Close, [Period(10)], "period + 1 bars", p => new RateOfChange(I(p[0])), (RateOfChange x) => x.Update, x => x.Value),
            Value("trix", "TRIX: one-bar rate of change (percent) of a triple EMA", IndicatorInput.Close, [Period(15)], "3·period − 1 bars", p => new Trix(I(p[0])), (Trix x) => x.Update, x => x.Value),
            Bar(
                "ultimate", "ultimate oscillator: 100·(4·A_short + 2·A_medium + A_long)/7, A = Σ buying pressure / Σ true range",
                [Period(7, "short", "short window"), Period(14, "medium", "medium window, above short"), Period(28, "long", "long window, above medium")],
                ["ultimate"], "long + 1 bars", p => new UltimateOscillator(I(p[0]), I(p[1]), I(p[2])), (UltimateOscillator x) => x.Update, x => _ => x.Value),
            Value(
                "kama", "Kaufman's adaptive moving average", IndicatorInput.Close,
                [Period(10, "period", "efficiency-ratio period"), Period(2, "fast", "fastest EMA period"), Period(30, "slow", "slowest EMA period, above fast")],
                "period + 1 bars", p => new Kama(I(p[0]), I(p[1]), I(p[2])), (Kama x) => x.Update, x => x.Value),
            Bar(
                "aroon", "Aroon up/down: 100·(period − bars since the highest high / lowest low)/period", [Period(25)], ["up", "down"], "period + 1 bars",
                p => new Aroon(I(p[0])), (Aroon x) => x.Update, x => line => line == 0 ? x.Up : x.Down, IndicatorInput.HighLow),
            Value("stddev", "population standard deviation", IndicatorInput.Close, [Period(20)], "period bars", p => new StdDev(I(p[0])), (StdDev x) => x.Update, x => x.Value),
            Bar(
                "donchian", "Donchian channel: highest high, their midpoint, lowest low", [Period(20)], ["upper", "middle", "lower"], "period bars",
                p => new DonchianChannel(I(p[0])), (DonchianChannel x) => x.Update, x => line => line switch { 0 => x.Upper, 1 => x.Middle, _ => x.Lower }, IndicatorInput.HighLow),
            Bar(
                "psar", "parabolic SAR (Wilder)",
                [new IndicatorParameter("step", 0.02, 0.0001, 1, false, "acceleration step"), new IndicatorParameter("max", 0.2, 0.0001, 1, false, "maximum acceleration, at least step")],
                ["psar"], "2 bars", p => new ParabolicSar(p[0], p[1]), (ParabolicSar x) => x.Update, x => _ => x.Value, IndicatorInput.HighLow),
            Value("highest", "highest high", IndicatorInput.High, [Period(20)], "period bars", p => new Highest(I(p[0])), (Highest x) => x.Update, x => x.Value),
            Value("lowest", "lowest low", IndicatorInput.Low, [Period(20)], "period bars", p => new Lowest(I(p[0])), (Lowest x) => x.Update, x => x.Value),
        ];
        ByName = All.ToDictionary(d => d.Name, StringComparer.Ordinal);
    }

    public static IReadOnlyList<IndicatorDefinition> All { get; }

    public static IndicatorDefinition? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>Every indicator, one paragraph each: spec form, what it computes, parameters with defaults, lines, warm-up.</summary>
    public static string Describe()
    {
        var sb = new StringBuilder();
        foreach (var d in All)
        {
            string form = d.Parameters.Count == 0 ? d.Name : $"{d.Name}:{string.Join(",", d.Parameters.Select(p => p.Name))}";
            sb.Append("  ").Append(form).Append(" — ").Append(d.Summary).Append(". Input: ").Append(d.Input switch
            {
                IndicatorInput.Close => "close",
                IndicatorInput.High => "high",
                IndicatorInput.Low => "low",
                IndicatorInput.HighLow => "high, low",
                _ => "high, low, close",
            }).Append('.');
            if (d.Parameters.Count > 0)
            {
                sb.Append(" Parameters (defaults): ").Append(string.Join(", ", d.Parameters.Select(p => $"{p.Name} {p.DefaultText} ({p.Description})"))).Append('.');
            }

            if (d.Lines.Count > 1)
            {
                sb.Append(" Lines: ").Append(string.Join(", ", d.Lines.Select(l => "." + l))).Append('.');
            }

            sb.Append(" First value after ").Append(d.WarmUpText).Append(".\n");
        }

        return sb.ToString();
    }

    private static IndicatorParameter Period(double value, string name = "period", string description = "bars in the window") =>
        new(name, value, 1, MaxPeriod, true, description);

    private static int I(double v) => (int)v;

    private static IndicatorDefinition Value<T>(
        string name, string summary, IndicatorInput input, IndicatorParameter[] parameters, string warmUp,
        Func<double[], T> create, Func<T, Action<double>> update, Func<T, double> value)
        where T : class, IIndicator
    {
        BarAction Bind(IIndicator i)
        {
            var feed = update((T)i);
            return input switch
            {
                IndicatorInput.High => (in Bar b) => feed(b.High.ToDouble()),
                IndicatorInput.Low => (in Bar b) => feed(b.Low.ToDouble()),
                _ => (in Bar b) => feed(b.Close.ToDouble()),
            };
        }

        return new IndicatorDefinition(name, summary, input, parameters, [name], warmUp, p => create(p), Bind, i => _ => value((T)i));
    }

    private static IndicatorDefinition Lines<T>(
        string name, string summary, IndicatorInput input, IndicatorParameter[] parameters, string[] lines, string warmUp,
        Func<double[], T> create, Func<T, Action<double>> update, Func<T, Func<int, double>> read)
        where T : class, IIndicator
    {
        BarAction Bind(IIndicator i)
        {
            var feed = update((T)i);
            return (in Bar b) => feed(b.Close.ToDouble());
        }

        return new IndicatorDefinition(name, summary, input, parameters, lines, warmUp, p => create(p), Bind, i => read((T)i));
    }

    private static IndicatorDefinition Bar<T>(
        string name, string summary, IndicatorParameter[] parameters, string[] lines, string warmUp,
        Func<double[], T> create, Func<T, BarAction> update, Func<T, Func<int, double>> read, IndicatorInput input = IndicatorInput.Bar)
        where T : class, IIndicator =>
        new(name, summary, input, parameters, lines, warmUp, p => create(p), i => update((T)i), i => read((T)i));
}
