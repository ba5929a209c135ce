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
    window.__jitFirstList = {
      url: url,
      token: token,
      response: fetch(url, { headers: { Accept: "application/json", Authorization: "Bearer " + token } }),
    };
  } catch (e) {}
})();
