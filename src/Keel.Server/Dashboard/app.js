// The Keel dashboard: runs, and per run its candles with order and fill markers, equity, positions, orders and a
// live event log over the WebSocket. The token comes from the address (#token=…) and stays in this tab's storage.
(function () {
  "use strict";
  var LC = window.LightweightCharts;
  var fromHash = /[#&]token=([^&]+)/.exec(location.hash);
  if (fromHash) {
    sessionStorage.setItem("keel.token", decodeURIComponent(fromHash[1]));
    history.replaceState(null, "", location.pathname);
  }
  var token = sessionStorage.getItem("keel.token");
  var state = { ready: false, runId: null, events: [], socket: null, candles: null, equity: null, markers: null, lastSequence: 0 };
  window.keelDashboard = state;
  var $ = function (id) { return document.getElementById(id); };
  if (!token) { $("no-token").hidden = false; }

  function api(path) {
    return fetch(path, { headers: { Authorization: "Bearer " + token } }).then(function (r) {
      if (!r.ok) { throw new Error(path + ": " + r.status); }
      return r.json();
    });
  }

  function cell(tr, text) { var td = document.createElement("td"); td.textContent = text == null ? "" : String(text); tr.appendChild(td); return td; }

  function fill(tbody, rows, columns) {
    tbody.textContent = "";
    rows.forEach(function (row) { var tr = document.createElement("tr"); columns.forEach(function (c) { cell(tr, row[c]); }); tbody.appendChild(tr); });
  }

  function loadRuns() {
    return api("/api/runs?limit=50").then(function (list) {
      var tbody = $("runs").tBodies[0];
      tbody.textContent = "";
      list.runs.forEach(function (run) {
        var tr = document.createElement("tr");
        tr.dataset.run = run.id;
        if (run.id === state.runId) { tr.className = "selected"; }
        cell(tr, run.id); cell(tr, run.kind); cell(tr, run.strategy + " " + run.parameters);
        cell(tr, run.status).className = "status-" + run.status;
        cell(tr, run.progress.toFixed(1) + "%"); cell(tr, run.updatedAt);
        tr.addEventListener("click", function () { select(run.id); });
        tbody.appendChild(tr);
        if (run.id === state.runId) { $("run-status").textContent = run.status; $("run-status").className = "status-" + run.status; }
      });
      $("connection").textContent = "connected · " + list.total + " runs";
      if (!state.runId && list.runs.length > 0) {
        var active = list.runs.filter(function (r) { return r.active; })[0];
        select((active || list.runs[0]).id);
      }
    }).catch(function (e) { $("connection").textContent = "not connected: " + e.message; });
  }

  function chart(id) {
    return LC.createChart($(id), { autoSize: true, layout: { attributionLogo: false }, timeScale: { timeVisible: true } });
  }

  function select(id) {
    if (state.socket) { state.socket.close(); state.socket = null; }
    state.runId = id; state.events = []; state.lastSequence = 0;
    $("run").hidden = false; $("run-id").textContent = id; $("events").textContent = ""; $("event-count").textContent = "0";
    if (!state.priceChart) {
      state.priceChart = chart("price-chart");
      state.candles = state.priceChart.addSeries(LC.CandlestickSeries, { upColor: "#1a7f37", downColor: "#cf222e", borderVisible: false, wickUpColor: "#1a7f37", wickDownColor: "#cf222e" });
      state.markers = LC.createSeriesMarkers(state.candles, []);
      state.equityChart = chart("equity-chart");
      state.equity = state.equityChart.addSeries(LC.LineSeries, { color: "#1f6feb", lineWidth: 2 });
    }
    state.candles.setData([]); state.equity.setData([]); state.markers.setMarkers([]);
    Array.prototype.forEach.call($("runs").tBodies[0].rows, function (tr) { tr.className = tr.dataset.run === id ? "selected" : ""; });
    connect(id);
    refresh();
  }

  function connect(id) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/api/runs/" + encodeURIComponent(id) + "/stream?after=" + state.lastSequence, ["keel", "keel.bearer." + token]);
    state.socket = socket;
    socket.onmessage = function (m) {
      var e = JSON.parse(m.data);
      state.lastSequence = e.sequence;
      state.events.push(e);
      var li = document.createElement("li");
      li.textContent = e.time + " " + e.type + " " + JSON.stringify(e.payload);
      var list = $("events");
      list.insertBefore(li, list.firstChild);
      while (list.childNodes.length > 200) { list.removeChild(list.lastChild); }
      $("event-count").textContent = String(state.events.length);
      if (/^order\./.test(e.type)) { scheduleRefresh(); }
    };
    socket.onclose = function (c) {
      if (state.socket === socket && c.code !== 1000) {
        // Dropped (too slow, or the server went away): resume where it left off.
        setTimeout(function () { if (state.socket === socket) { connect(id); } }, 1000);
      }
    };
  }

  var pending = null;
  function scheduleRefresh() { if (!pending) { pending = setTimeout(function () { pending = null; refresh(); }, 300); } }

  function toSeconds(iso) { return Math.floor(Date.parse(iso) / 1000); }

  function refresh() {
    var id = state.runId;
    if (!id) { return Promise.resolve(); }
    var base = "/api/runs/" + encodeURIComponent(id);
    return Promise.all([api(base + "/candles"), api(base + "/equity?points=1000"), api(base + "/fills?limit=5000"), api(base + "/orders"), api(base + "/positions")]).then(function (r) {
      if (id !== state.runId) { return; }
      var candles = r[0], equity = r[1], fills = r[2], orders = r[3], positions = r[4];
      state.candles.setData(candles.map(function (c) { return { time: c.time, open: c.open, high: c.high, low: c.low, close: c.close }; }));
      var seen = {};
      state.equity.setData(equity.map(function (p) { return { time: toSeconds(p.time), value: parseFloat(p.equity) }; })
        .filter(function (p) { if (seen[p.time]) { return false; } seen[p.time] = true; return true; })
        .sort(function (a, b) { return a.time - b.time; }));
      var times = candles.map(function (c) { return c.time; });
      var markers = [];
      fills.forEach(function (f) {
        var t = toSeconds(f.time), at = null;
        for (var i = times.length - 1; i >= 0; i--) { if (times[i] <= t) { at = times[i]; break; } }
        if (at !== null) {
          markers.push({ time: at, position: f.side === "buy" ? "belowBar" : "aboveBar", color: f.side === "buy" ? "#1a7f37" : "#cf222e", shape: f.side === "buy" ? "arrowUp" : "arrowDown", text: f.side + " " + f.quantity + " @ " + f.price });
        }
      });
      orders.filter(function (o) { return o.status !== "filled" && o.limitPrice && times.length; }).slice(-20).forEach(function (o) {
        markers.push({ time: times[times.length - 1], position: "inBar", color: "#9a6700", shape: "circle", text: o.id + " " + o.side + " " + o.status });
      });
      markers.sort(function (a, b) { return a.time - b.time; });
      state.markers.setMarkers(markers);
      fill($("positions").tBodies[0], positions, ["instrument", "quantity", "costBasis", "realizedPnl", "lastPrice"]);
      fill($("orders").tBodies[0], orders.slice(-50).reverse(), ["id", "side", "type", "quantity", "limitPrice", "status"]);
      state.ready = true;
    }).catch(function (e) { $("connection").textContent = "not connected: " + e.message; });
  }

  // Decisions of the pipeline: the pending ones, each approvable with a trade-scope token (typed in the page, or the
  // page's own if it has trade scope; kept in this page only), and the trade journal.
  function authorization() { return "Bearer " + ($("trade-token").value.trim() || token); }

  function loadDecisions() {
    return Promise.all([api("/api/decisions?pending=true"), api("/api/journal/trades")]).then(function (r) {
      $("decisions-section").hidden = false;
      var tbody = $("decisions").tBodies[0];
      tbody.textContent = "";
      r[0].forEach(function (d) {
        var tr = document.createElement("tr");
        tr.dataset.decision = String(d.id);
        [d.id, d.symbol, d.action, d.side, d.tradeStyle, d.plannedEntry, d.plannedStopLoss, d.plannedTakeProfit, d.quantity].forEach(function (v) { cell(tr, v); });
        cell(tr, d.approved ? "yes" : "no").className = "approved";
        var actions = cell(tr, "");
        if (!d.approved) {
          var button = document.createElement("button");
          button.type = "button"; button.textContent = "Approve"; button.className = "approve";
          button.addEventListener("click", function () { approve(d.id, button); });
          actions.appendChild(button);
        }
        tbody.appendChild(tr);
      });
      fill($("journal").tBodies[0], r[1].slice(-100).reverse(), ["id", "decisionId", "symbol", "side", "status", "plannedEntry", "actualEntry", "quantity", "exitPrice", "exitReason", "actualPnl"]);
      state.decisionsReady = true;
    }).catch(function (e) { $("decision-message").textContent = "decisions: " + e.message; });
  }

  function approve(id, button) {
    button.disabled = true;
    fetch("/api/decisions/" + encodeURIComponent(id) + "/approve", { method: "POST", headers: { Authorization: authorization() } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { throw new Error(body.detail || String(r.status)); }
        $("decision-message").textContent = "approved decision " + id;
        return loadDecisions();
      });
    }).catch(function (e) {
      button.disabled = false;
      $("decision-message").textContent = "not approved: " + e.message;
    });
  }

  if (token) {
    loadDecisions();
    setInterval(loadDecisions, 3000);
    loadRuns();
    setInterval(loadRuns, 2000);
    setInterval(refresh, 1000);
  }
})();
