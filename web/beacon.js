// Page-view beacon: a site page includes
//   <script src="https://search.example.social/beacon.js" defer></script>
// and one view of it is reported to the search server the script came from (POST /v1/views,
// with navigator.sendBeacon: no cookie, no identifier, no answer read). The page is named by
// its URL (origin, path and query, no fragment) as indexed; data-path sends only the path
// (pages indexed from an HTML folder), data-url="…" or data-id="…" name it explicitly.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !navigator.sendBeacon || !window.JSON) return;
  var data = script.dataset, body;
  if (data.id) body = { id: data.id };
  else if (data.url) body = { url: data.url };
  else if (script.hasAttribute("data-path")) body = { url: location.pathname };
  else body = { url: location.origin + location.pathname + location.search };
  navigator.sendBeacon(new URL("/v1/views", script.src).href, JSON.stringify(body));
})();
