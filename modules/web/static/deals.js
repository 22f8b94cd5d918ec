/* Huike deals kanban: drag a card to another stage (SortableJS), POST the move, and when a
 * stage gate blocks it show the server's dialog asking for what is missing; sending the
 * dialog saves those values and retries the move. No inline scripts (the CSP forbids them).
 *
 * Server contract (modules/web/pages/deals_gate.py), requests sent with HX-Request: true:
 *   POST /deals/<id>/move  stage=<id>[&missing values]
 *     200 → the moved card's HTML        422 + X-Huike-Gate: 1 → the dialog's HTML
 *     other 4xx/5xx → an error fragment (shown in #hk-messages)
 */
(function () {
  "use strict";

  var board, dialog, dialogBody;

  function token() {
    return board ? board.getAttribute("data-xsrf") : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-XSRF-Token": token(), "HX-Request": "true",
                 "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8" }
    }).then(function (response) {
      return response.text().then(function (text) {
        return { status: response.status, gate: response.headers.get("X-Huike-Gate") === "1",
                 html: text };
      });
    });
  }

  function message(html) {
    var box = document.getElementById("hk-messages");
    if (box) { box.innerHTML = html; }
  }

  function putBack(move) {
    var before = move.from.children[move.oldIndex] || null;
    move.from.insertBefore(move.item, before);
  }

  function refresh() {
    var url = board.getAttribute("data-refresh");
    return fetch(url, { credentials: "same-origin", headers: { "HX-Request": "true" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("[data-kanban]");
        if (fresh) {
          board.replaceWith(fresh);
          setUp(fresh);
        }
      });
  }

  function showDialog(html) {
    dialogBody.innerHTML = html;
    if (!dialog.open) { dialog.showModal(); }
    var first = dialogBody.querySelector("input:not([type=hidden]), select, textarea");
    if (first) { first.focus(); }
  }

  function closeDialog() {
    if (dialog.open) { dialog.close(); }
    dialogBody.innerHTML = "";
  }

  function answer(result, move) {
    if (result.status === 200) {
      closeDialog();
      return refresh();
    }
    if (move && move.item.parentNode !== move.from) { putBack(move); }
    if (result.status === 422 && result.gate) {
      showDialog(result.html);
      return null;
    }
    closeDialog();
    message(result.html);
    return null;
  }

  function onEnd(event) {
    if (event.from === event.to) { return; }
    var card = event.item;
    var stage = event.to.getAttribute("data-stage-id");
    var move = { item: card, from: event.from, oldIndex: event.oldIndex };
    var body = new URLSearchParams({ stage: stage });
    post(card.getAttribute("data-move-url"), body.toString())
      .then(function (result) { return answer(result, move); })
      .catch(function () { putBack(move); });
  }

  function onDialogSubmit(event) {
    var form = event.target.closest("#dl-gate-form");
    if (!form) { return; }
    event.preventDefault();
    var body = new URLSearchParams(new FormData(form));
    post(form.getAttribute("action"), body.toString())
      .then(function (result) { return answer(result, null); });
  }

  function onDialogClick(event) {
    if (event.target.closest("[data-gate-cancel]")) {
      event.preventDefault();
      closeDialog();
    }
  }

  function setUp(root) {
    board = root;
    if (typeof window.Sortable === "undefined") { return; }
    var columns = root.querySelectorAll("[data-stage-id]");
    Array.prototype.forEach.call(columns, function (column) {
      window.Sortable.create(column, {
        group: "deals", sort: false, animation: 120, filter: ".hk-locked",
        preventOnFilter: false, forceFallback: true, fallbackTolerance: 4,
        delay: 200, delayOnTouchOnly: true,  // a finger scrolls the board unless it rests
        onEnd: onEnd
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var root = document.querySelector("[data-kanban]");
    dialog = document.getElementById("dl-gate-dialog");
    dialogBody = document.getElementById("dl-gate-body");
    if (!root || !dialog) { return; }
    dialog.addEventListener("submit", onDialogSubmit);
    dialog.addEventListener("click", onDialogClick);
    setUp(root);
  });
})();
