/* Future options map: schools as keyboard-focusable markers on a plain background (no tiles), one
   overlay per phase and one ring overlay per vulnerability flag. Data from the page's JSON endpoint. */
(function () {
  "use strict";
  var el = document.getElementById("fo-map");
  if (!el || !window.L) { return; }
  var PHASES = { primary: "Primary", secondary: "Secondary", all_through: "All-through", special: "Special",
    alternative: "Alternative provision", nursery: "Nursery" };
  var FLAGS = { falling_roll: "Falling roll", small_school: "Small school", surplus: "Surplus places",
    falling_demand: "Falling demand" };

  var map = L.map(el, { zoomSnap: 0.25, minZoom: 10, maxZoom: 18 });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("School locations: DfE GIAS, OGL v3");
  map.setView([51.55, -0.16], 13);

  function phaseClass(phase) {
    return PHASES[phase] ? phase : "other";
  }

  function popup(s) {
    var box = document.createElement("div");
    var title = document.createElement("strong");
    title.textContent = s.name;
    box.appendChild(title);
    var facts = document.createElement("p");
    facts.textContent = s.phase_label + (s.pupils !== null ? ", " + s.pupils + " pupils" : "") +
      (s.surplus_pct !== null ? ", " + s.surplus_pct + "% surplus places" : "");
    box.appendChild(facts);
    var flags = document.createElement("p");
    flags.textContent = s.flag_labels.length ? "Flags: " + s.flag_labels.join(", ") : "No vulnerability flags";
    box.appendChild(flags);
    var link = document.createElement("a");
    link.href = s.url;
    link.className = "govuk-link";
    link.textContent = "Future options for " + s.name;
    box.appendChild(link);
    return box;
  }

  fetch(el.getAttribute("data-points"), { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(function (data) {
      var phaseLayers = {}, flagLayers = {}, bounds = [];
      data.schools.forEach(function (s) {
        var pc = phaseClass(s.phase);
        if (!phaseLayers[pc]) { phaseLayers[pc] = L.layerGroup(); }
        var label = s.name + ", " + s.phase_label + (s.flag_labels.length ? ", flagged: " + s.flag_labels.join(", ") : "");
        var marker = L.marker([s.lat, s.lon], {
          icon: L.divIcon({ className: "beacon-fo-marker beacon-fo-marker--" + pc, iconSize: [18, 18] }),
          title: label, keyboard: true, riseOnHover: true
        }).bindPopup(popup(s));
        marker.on("add", function () {
          var icon = marker.getElement();
          if (icon) { icon.setAttribute("aria-label", label); icon.setAttribute("data-urn", String(s.urn)); }
        });
        phaseLayers[pc].addLayer(marker);
        s.flags.forEach(function (f) {
          if (!flagLayers[f]) { flagLayers[f] = L.layerGroup(); }
          flagLayers[f].addLayer(L.circleMarker([s.lat, s.lon], {
            radius: 14, weight: 3, color: "#d4351c", fill: false, interactive: false, className: "beacon-fo-ring"
          }));
        });
        bounds.push([s.lat, s.lon]);
      });
      var overlays = {};
      Object.keys(flagLayers).forEach(function (f) {
        flagLayers[f].addTo(map);
        overlays["Flag: " + (FLAGS[f] || f) + " (" + flagLayers[f].getLayers().length + ")"] = flagLayers[f];
      });
      Object.keys(phaseLayers).forEach(function (p) {
        phaseLayers[p].addTo(map);
        overlays[(PHASES[p] || "Other") + " schools (" + phaseLayers[p].getLayers().length + ")"] = phaseLayers[p];
      });
      L.control.layers(null, overlays, { collapsed: false }).addTo(map);
      if (bounds.length) { map.fitBounds(bounds, { padding: [24, 24], maxZoom: 15 }); }
      el.setAttribute("data-ready", String(data.schools.length));
    })
    .catch(function () {
      el.setAttribute("data-ready", "error");
      var p = document.createElement("p");
      p.className = "govuk-body";
      p.textContent = "The map could not be loaded. The list of schools below has the same information.";
      el.parentNode.insertBefore(p, el);
    });
})();
