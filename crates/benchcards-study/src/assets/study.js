// The chat, improved: the page works the same without this script (a form, posted, and the
// page that follows). With it, the newest message is in view, the message box has the focus,
// a message cannot be sent twice while the assistant replies, and Ctrl+Enter sends.
(function () {
  "use strict";
  var form = document.querySelector('form[action="/study/message"]');
  if (!form) return;
  var text = form.querySelector("textarea");
  var button = form.querySelector("button");
  var status = document.getElementById("chat-status");
  var messages = document.querySelectorAll(".chat .msg");
  if (messages.length > 0) {
    messages[messages.length - 1].scrollIntoView({ block: "nearest" });
    text.focus();
  }
  form.addEventListener("submit", function (e) {
    if (form.getAttribute("data-sent")) {
      e.preventDefault();
      return;
    }
    form.setAttribute("data-sent", "1");
    button.disabled = true;
    status.textContent = "Sent. The assistant is replying…";
  });
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
})();
