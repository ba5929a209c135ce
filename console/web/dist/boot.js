// boot.js runs before the app's bundle (about 1 MB of JavaScript to parse)
// and starts the first list's request meanwhile, so that the rows can show
// as soon as the app renders. The app takes the answer only if it asks for
// exactly this URL with this token (api.js); otherwise it asks again.
(function () {
  try {
    var token = sessionStorage.getItem("jit.id_token");
    if (!token || location.pathname !== "/") return;
    var views = { "": ["approvals", "pending_for_me=true&"], "#/approvals": ["approvals", "pending_for_me=true&"], "#/tickets": ["all", "grouped=true&"], "#/mine": ["mine", "mine=true&grouped=true&"] };
    var v = views[location.hash];
    if (!v) return;
    var size = 25;
    try {
      var p = JSON.parse(localStorage.getItem("jit.prefs.v3." + v[0]) || "null");
      if (p && p.pageSize) size = p.pageSize;
    } catch (e) {}
    var url = "/api/v1/tickets?" + v[1] + "sort=created&order=desc&limit=" + size + "&offset=0";
    // answer promises the reply read whole ({ok, status, statusText,
    // text}); read holds it once it is here, so that a list that renders
    // after it came draws its rows in its first render (api.js peek).
    var first = (window.__jitFirstList = { url: url, token: token });
    first.answer = fetch(url, { headers: { Accept: "application/json", Authorization: "Bearer " + token } }).then(function (r) {
      return r.text().then(function (text) {
        return (first.read = { ok: r.ok, status: r.status, statusText: r.statusText, text: text });
      });
    });
  } catch (e) {}
})();
