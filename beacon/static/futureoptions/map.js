/* Future options map: schools as keyboard-focusable markers on a plain background (no tiles).
   Layers: nursery, primary, secondary, special, alternative provision (and other), and one ring layer
   per vulnerability flag (Leaflet's layer control, collapsed on phones). Keyboard: the controls come
   before the markers in tab order; Enter or Space opens a marker's popup, Escape closes it.
   Schools closer than a touch target on screen are grouped into one marker listing them, so that
   every marker is at least 24px and none overlaps (WCAG 2.2 target size); groups split on zoom. */
(function () {
  "use strict";
  var el = document.getElementById("fo-map");
  if (!el || !window.L) { return; }
  var PHASES = { primary: "Primary", secondary: "Secondary", all_through: "All-through", special: "Special",
    alternative: "Alternative provision", nursery: "Nursery", other: "Other" };
  var FLAGS = { falling_roll: "Falling roll", small_school: "Small school", surplus: "Surplus places",
    falling_demand: "Falling demand", roll_below_entries: "Headcount below entries" };
  var PHONE = window.matchMedia && window.matchMedia("(max-width: 40.0525em)").matches;
  var MIN_PX = 30;

  var map = L.map(el, { zoomSnap: 0.25, minZoom: 10, maxZoom: 18 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("School locations: DfE GIAS, OGL v3");
  map.setView([51.55, -0.16], 13);

  var schools = [];
  // Escape closes an open popup wherever the focus is inside the map (and returns focus to its marker).
  el.addEventListener("keydown", function (e) {
    if ((e.key === "Escape" || e.key === "Esc") && map._popup && map.hasLayer(map._popup)) {
      e.preventDefault();
      map.closePopup();
    }
  });
  var shownPhases = {}, shownFlags = {};
  var markerLayer = L.layerGroup().addTo(map);
  var ringLayer = L.layerGroup().addTo(map);

  function phaseOf(s) { var p = s.layer || s.phase; return PHASES[p] ? p : "other"; }

  function describe(s) {
    return s.name + ", " + s.phase_label + (s.flag_labels.length ? ", flagged: " + s.flag_labels.join(", ") : "");
  }

  function schoolBlock(s) {
    var box = document.createElement("div");
    var link = document.createElement("a");
    link.href = s.url;
    link.className = "govuk-link";
    link.textContent = s.name;
    box.appendChild(link);
    var facts = document.createElement("p");
    facts.textContent = s.phase_label + (s.pupils !== null ? ", " + s.pupils + " pupils" : "") +
      (s.surplus_pct !== null ? ", " + s.surplus_pct + "% surplus places" : "") + ". " +
      (s.flag_labels.length ? "Flags: " + s.flag_labels.join(", ") + "." : "No vulnerability flags.");
    box.appendChild(facts);
    if (s.position_basis.indexOf("Approximate") === 0) {
      var where = document.createElement("p");
      where.textContent = s.position_basis + ".";
      box.appendChild(where);
    }
    return box;
  }

  function popupFor(group) {
    var box = document.createElement("div");
    if (group.length > 1) {
      var h = document.createElement("p");
      h.textContent = group.length + " schools close together:";
      box.appendChild(h);
    }
    group.forEach(function (s) { box.appendChild(schoolBlock(s)); });
    return box;
  }

  function redraw() {
    markerLayer.clearLayers();
    ringLayer.clearLayers();
    var groups = [];
    schools.forEach(function (s) {
      if (!shownPhases[phaseOf(s)]) { return; }
      var p = map.latLngToLayerPoint([s.lat, s.lon]);
      var g = null;
      for (var i = 0; i < groups.length; i++) {
        if (groups[i].point.distanceTo(p) < MIN_PX) { g = groups[i]; break; }
      }
      if (g) { g.items.push(s); } else { groups.push({ point: p, latlng: [s.lat, s.lon], items: [s] }); }
    });
    groups.forEach(function (g) {
      // One ring round a marker if any school it stands for has a flag that is switched on.
      var flagged = g.items.some(function (s) { return s.flags.some(function (f) { return shownFlags[f]; }); });
      if (flagged) {
        ringLayer.addLayer(L.circleMarker(g.latlng, {
          radius: 16, weight: 3, color: "#d4351c", fill: false, interactive: false, className: "beacon-fo-ring"
        }));
      }
    });
    groups.forEach(function (g) {
      var first = g.items[0];
      var many = g.items.length > 1;
      var label = many ? g.items.length + " schools: " + g.items.map(function (s) { return s.name; }).join("; ")
        : describe(first);
      var marker = L.marker(g.latlng, {
        icon: L.divIcon({
          className: "beacon-fo-marker beacon-fo-marker--" + (many ? "group" : phaseOf(first)),
          html: many ? String(g.items.length) : "", iconSize: [24, 24]
        }),
        title: label, keyboard: true, riseOnHover: true
      }).bindPopup(popupFor(g.items), { maxWidth: 260 });
      marker.on("add", function () {
        var icon = marker.getElement();
        if (icon) {
          icon.addEventListener("keydown", function (e) {
            if (e.key === " " || e.key === "Spacebar") { e.preventDefault(); marker.openPopup(); }
          });
          icon.setAttribute("aria-label", label);
          icon.setAttribute("data-urns", g.items.map(function (s) { return s.urn; }).join(" "));
        }
      });
      marker.on("popupopen", function (e) {
        var link = e.popup.getElement().querySelector(".leaflet-popup-content a");
        if (link) { link.focus(); }
      });
      marker.on("popupclose", function () {
        var icon = marker.getElement();
        if (icon) { icon.focus(); }
      });
      markerLayer.addLayer(marker);
    });
    el.setAttribute("data-markers", String(groups.length));
  }

  fetch(el.getAttribute("data-points"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      schools = data.schools;
      var overlays = {}, byLayer = {};
      var counts = {}, flagCounts = {};
      schools.forEach(function (s) {
        counts[phaseOf(s)] = (counts[phaseOf(s)] || 0) + 1;
        s.flags.forEach(function (f) { flagCounts[f] = (flagCounts[f] || 0) + 1; });
      });
      Object.keys(counts).forEach(function (p) {
        var layer = L.layerGroup().addTo(map);
        shownPhases[p] = true;
        byLayer[L.stamp(layer)] = { kind: "phase", key: p };
        overlays[PHASES[p] + " schools (" + counts[p] + ")"] = layer;
      });
      Object.keys(flagCounts).forEach(function (f) {
        var layer = L.layerGroup().addTo(map);
        shownFlags[f] = true;
        byLayer[L.stamp(layer)] = { kind: "flag", key: f };
        overlays["Flag: " + (FLAGS[f] || f) + " (" + flagCounts[f] + ")"] = layer;
      });
      function toggle(on) {
        return function (e) {
          var what = byLayer[L.stamp(e.layer)];
          if (!what) { return; }
          (what.kind === "phase" ? shownPhases : shownFlags)[what.key] = on;
          redraw();
        };
      }
      map.on("overlayadd", toggle(true));
      map.on("overlayremove", toggle(false));
      var control = L.control.layers(null, overlays, { collapsed: PHONE }).addTo(map);
      var toggleLink = control.getContainer().querySelector(".leaflet-control-layers-toggle");
      if (toggleLink) { toggleLink.setAttribute("aria-label", "Map layers: show or hide phases and flags"); }
      // The controls (zoom, layers) come before the markers in tab order.
      var controls = el.querySelector(".leaflet-control-container");
      if (controls) { el.insertBefore(controls, el.firstChild); }
      if (schools.length) {
        map.fitBounds(schools.map(function (s) { return [s.lat, s.lon]; }), { padding: [24, 24], maxZoom: 15, animate: false });
      }
      map.on("zoomend", redraw);
      redraw();
      el.setAttribute("data-ready", String(schools.length));
    })
    .catch(function () {
      el.setAttribute("data-ready", "error");
      var p = document.createElement("p");
      p.className = "govuk-body";
      p.textContent = "The map could not be loaded. The list of schools below has the same information.";
      el.parentNode.insertBefore(p, el);
    });
})();
