/* riskmap offline web map: layers from embedded GeoJSON, four-colour styles, legend, popups, search.
 * Every piece of user text reaches the page through textContent (never innerHTML), so a name that holds
 * HTML markup or a script tag shows as text and runs nothing. Keep this file free of closing script tags. */
(function (map, DATA) {
  "use strict";

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function escapeHtml(s) {  // only for Leaflet's layer control, which writes names with innerHTML
    return String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
  }

  map.attributionControl.setPrefix(false);
  L.control.scale({ imperial: false, maxWidth: 160 }).addTo(map);
  map.getContainer().style.background = "#F4F4F2";

  function classOf(layer, props) {
    var c = layer.classes[props._c];
    return c || layer.other;
  }

  function popupFor(layer, feature) {
    var p = feature.properties;
    var box = el("div", "rm-popup");
    box.appendChild(el("div", "rm-popup-layer", layer.name));
    box.appendChild(el("div", "rm-popup-title", p._n || layer.name));
    var cls = layer.classes[p._c];
    if (cls && layer.styleType === "level") {
      var badge = el("span", "rm-badge", cls.label);
      badge.style.background = cls.colour;
      badge.style.color = cls.text;
      box.appendChild(badge);
    }
    var table = el("table", "rm-fields");
    layer.fields.forEach(function (title, i) {
      var v = p._v[i];
      if (v === null || v === undefined || v === "") { return; }
      var tr = el("tr");
      tr.appendChild(el("th", null, title));
      tr.appendChild(el("td", null, v));
      table.appendChild(tr);
    });
    box.appendChild(table);
    if (p._l) {  // the 5个清单 of an enterprise
      var lists = el("div", "rm-lists");
      lists.appendChild(el("div", "rm-lists-title", "5个清单"));
      p._l.forEach(function (section, k) {
        var d = el("details");
        d.open = k === 0;
        d.appendChild(el("summary", null, section[0]));
        var t = el("table", "rm-fields");
        section[1].forEach(function (kv) {
          var tr = el("tr");
          tr.appendChild(el("th", null, kv[0]));
          tr.appendChild(el("td", null, kv[1]));
          t.appendChild(tr);
        });
        d.appendChild(t);
        lists.appendChild(d);
      });
      box.appendChild(lists);
    }
    return box;
  }

  var overlays = {};
  var searchIndex = [];
  var allBounds = null;

  DATA.layers.forEach(function (layer) {
    var st = layer.style;
    function pointStyle(f) {
      var c = classOf(layer, f.properties);
      return { radius: st.radius, fill: true, fillColor: c.colour, fillOpacity: 1,
               color: st.stroke || "#202020", weight: st.weight, opacity: 1 };
    }
    var gj = L.geoJSON(layer.features, {
      pointToLayer: function (f, latlng) {
        return L.circleMarker(latlng, pointStyle(f));
      },
      style: function (f) {  // L.geoJSON applies this to markers too
        var c = classOf(layer, f.properties);
        if (layer.geometry === "point") { return pointStyle(f); }
        if (layer.geometry === "line") {
          return { color: c.colour, weight: st.weight, opacity: 1, dashArray: st.dash };
        }
        if (st.fill) {
          return { fillColor: c.colour, fillOpacity: st.fillOpacity, color: st.stroke || c.colour,
                   weight: st.weight, opacity: 1, dashArray: st.dash };
        }
        return { fill: false, color: c.colour, weight: st.weight, opacity: 1, dashArray: st.dash };
      },
      onEachFeature: function (f, lyr) {
        lyr.bindPopup(function () { return popupFor(layer, f); }, { maxWidth: 420, minWidth: 240 });
        if (f.properties._n) {
          searchIndex.push({ name: String(f.properties._n), lower: String(f.properties._n).toLowerCase(),
                             layer: layer, item: lyr });
        }
      }
    });
    layer.group = gj;
    if (layer.visible) {
      gj.addTo(map);
      var b = gj.getBounds();
      if (b.isValid()) { allBounds = allBounds ? allBounds.extend(b) : L.latLngBounds(b.getSouthWest(), b.getNorthEast()); }
    }
    overlays[escapeHtml(layer.name + "（" + layer.count + "）")] = gj;
  });
  if (allBounds) { map.fitBounds(allBounds, { padding: [10, 10] }); }

  L.control.layers(null, overlays, { collapsed: DATA.layers.length > 12, position: "topright" }).addTo(map);

  // ---- title and demo mark
  var Title = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      var d = el("div", "rm-title");
      d.appendChild(el("div", "rm-title-main", DATA.title));
      if (DATA.subtitle) { d.appendChild(el("div", "rm-title-sub", DATA.subtitle)); }
      if (DATA.demo) { d.appendChild(el("div", "rm-demo", DATA.demo)); }
      L.DomEvent.disableClickPropagation(d);
      return d;
    }
  });
  new Title().addTo(map);

  // ---- legend: the four levels with counts, then the other visible layers
  var Legend = L.Control.extend({
    options: { position: "bottomright" },
    onAdd: function () {
      var d = el("div", "rm-legend");
      d.appendChild(el("div", "rm-legend-title", DATA.legendTitle));
      DATA.levels.forEach(function (lv) {
        var row = el("div", "rm-legend-row");
        var sw = el("span", "rm-swatch");
        sw.style.background = lv.colour;
        row.appendChild(sw);
        row.appendChild(el("span", "rm-legend-label", lv.name));
        row.appendChild(el("span", "rm-legend-count", lv.count));
        d.appendChild(row);
      });
      if (DATA.note) { d.appendChild(el("div", "rm-legend-note", DATA.note)); }
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    }
  });
  new Legend().addTo(map);

  // ---- search by name
  var Search = L.Control.extend({
    options: { position: "topleft" },
    onAdd: function () {
      var d = el("div", "rm-search");
      var input = el("input");
      input.type = "search";
      input.placeholder = "按名称搜索…";
      input.setAttribute("aria-label", "按名称搜索");
      var list = el("ul", "rm-results");
      d.appendChild(input);
      d.appendChild(list);
      function show(item) {
        if (!map.hasLayer(item.layer.group)) { map.addLayer(item.layer.group); }
        if (item.item.getLatLng) {
          map.setView(item.item.getLatLng(), Math.max(map.getZoom(), 14), { animate: false });
        } else {
          map.fitBounds(item.item.getBounds(), { maxZoom: 15, animate: false });
        }
        item.item.openPopup();
      }
      function run() {
        var q = input.value.trim().toLowerCase();
        while (list.firstChild) { list.removeChild(list.firstChild); }
        if (!q) { return; }
        var n = 0;
        for (var i = 0; i < searchIndex.length && n < 30; i++) {
          var it = searchIndex[i];
          if (it.lower.indexOf(q) < 0) { continue; }
          n++;
          var li = el("li");
          li.appendChild(el("span", "rm-result-name", it.name));
          li.appendChild(el("span", "rm-result-layer", it.layer.name));
          li.addEventListener("click", show.bind(null, it));
          list.appendChild(li);
        }
        if (!n) { list.appendChild(el("li", "rm-none", "无匹配结果")); }
      }
      var timer = null;
      input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 150); });
      input.addEventListener("keydown", function (ev) {
        if (ev.key === "Enter" && list.firstChild && list.firstChild.click) { list.firstChild.click(); }
      });
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    }
  });
  new Search().addTo(map);

  window.riskmapReady = { layers: DATA.layers.length, features: searchIndex.length };
  document.documentElement.setAttribute("data-riskmap-ready", String(searchIndex.length));
})(MAP_VARIABLE, RISKMAP_DATA);
