// A small reader of the server's OpenAPI document (/openapi/v1.json): every path and method with its summary, its
// parameters, its request body and its responses with their schemas. No framework, nothing fetched from elsewhere.
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  function el(tag, text, cls) { var e = document.createElement(tag); if (text != null) { e.textContent = String(text); } if (cls) { e.className = cls; } return e; }

  function resolve(doc, schema) {
    var seen = 0;
    while (schema && schema.$ref && seen++ < 20) {
      var parts = schema.$ref.replace(/^#\//, "").split("/");
      schema = parts.reduce(function (o, p) { return o ? o[p] : undefined; }, doc);
    }
    return schema || {};
  }

  function describe(doc, schema, depth) {
    schema = resolve(doc, schema);
    if (depth > 3) { return "…"; }
    var type = Array.isArray(schema.type) ? schema.type.filter(function (t) { return t !== "null"; }).join("|") : schema.type;
    if (type === "array") { return "[" + describe(doc, schema.items, depth + 1) + "]"; }
    if (schema.properties) {
      return "{ " + Object.keys(schema.properties).map(function (k) { return k + ": " + describe(doc, schema.properties[k], depth + 1); }).join(", ") + " }";
    }
    if (schema.enum) { return schema.enum.join("|"); }
    return (type || "any") + (schema.format ? " (" + schema.format + ")" : "");
  }

  function render(doc) {
    $("api-title").textContent = (doc.info && doc.info.title) || "API";
    $("api-version").textContent = doc.info && doc.info.version ? "version " + doc.info.version : "";
    $("api-description").textContent = (doc.info && doc.info.description) || "";
    var main = $("api-operations"), index = $("api-index");
    main.textContent = "";
    var list = el("ul");
    Object.keys(doc.paths || {}).sort().forEach(function (path) {
      var item = doc.paths[path];
      ["get", "post", "put", "patch", "delete"].forEach(function (method) {
        var op = item[method];
        if (!op) { return; }
        var id = "op-" + method + "-" + path.replace(/[^A-Za-z0-9]+/g, "-");
        var li = el("li"); var a = el("a", method.toUpperCase() + " " + path); a.href = "#" + id; li.appendChild(a); list.appendChild(li);
        var section = el("section", null, "operation"); section.id = id; section.dataset.method = method; section.dataset.path = path;
        section.appendChild(el("h2", method.toUpperCase() + " " + path));
        if (op.summary) { section.appendChild(el("p", op.summary)); }
        var params = (item.parameters || []).concat(op.parameters || []);
        if (params.length) {
          var table = el("table"); var head = el("tr"); ["Parameter", "In", "Required", "Type"].forEach(function (h) { head.appendChild(el("th", h)); }); table.appendChild(head);
          params.forEach(function (p) { var tr = el("tr"); [p.name, p.in, p.required ? "yes" : "no", describe(doc, p.schema, 0)].forEach(function (c) { tr.appendChild(el("td", c)); }); table.appendChild(tr); });
          section.appendChild(table);
        }
        if (op.requestBody && op.requestBody.content) {
          Object.keys(op.requestBody.content).forEach(function (type) {
            section.appendChild(el("h3", "Body (" + type + ")"));
            section.appendChild(el("code", describe(doc, op.requestBody.content[type].schema, 0)));
          });
        }
        var responses = op.responses || {};
        Object.keys(responses).forEach(function (code) {
          var r = responses[code];
          var types = r.content ? Object.keys(r.content) : [];
          section.appendChild(el("h3", code + " " + (r.description || "")));
          types.forEach(function (type) { section.appendChild(el("code", type + ": " + describe(doc, r.content[type].schema, 0))); });
        });
        main.appendChild(section);
      });
    });
    index.textContent = ""; index.appendChild(list);
    window.keelApiDocs = { ready: true, operations: main.querySelectorAll("section.operation").length };
  }

  fetch("/openapi/v1.json").then(function (r) { if (!r.ok) { throw new Error("/openapi/v1.json: " + r.status); } return r.json(); })
    .then(render)
    .catch(function (e) { $("api-operations").textContent = "Cannot read the API document: " + e.message; });
})();
