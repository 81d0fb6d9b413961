// The patient page: start the chat widget (rasa-webchat, served from this site) and
// show the results as cards, built from the assistant's machine-readable results.
(function () {
  "use strict";
  var RESULTS_KEY = "prescreen-results";
  var VERDICTS = {
    possibly_eligible: "May be a match",
    possibly_eligible_later: "May fit after a waiting period",
    not_eligible: "Does not seem to fit"
  };
  var CLASSES = {possibly_eligible: "may-fit", possibly_eligible_later: "may-fit-later"};
  var STATUSES = {not_yet_recruiting: "Not yet recruiting", active_not_recruiting: "Not recruiting now",
                  completed: "Finished"};

  function showResults(results) {
    var list = document.getElementById("result-cards");
    var titles = {};
    document.querySelectorAll("#studies [data-trial-id]").forEach(function (card) {
      titles[card.getAttribute("data-trial-id")] = card.querySelector("h3").textContent;
    });
    list.textContent = "";
    results.forEach(function (result) {
      var item = document.createElement("li");
      item.className = "card result " + (CLASSES[result.verdict] || "no-fit");
      item.setAttribute("data-trial-id", result.trial_id);
      var title = document.createElement("h3");
      title.textContent = result.title || titles[result.trial_id] || result.trial_id;
      var verdict = document.createElement("p");
      verdict.className = "verdict";
      verdict.textContent = VERDICTS[result.verdict] || result.verdict;
      if (result.earliest_date) {  // ISO date; the message says it in words
        verdict.textContent += " (from about " + result.earliest_date + ")";
      }
      if (STATUSES[result.status]) {
        verdict.textContent += " · " + STATUSES[result.status];
      }
      var why = document.createElement("p");
      why.textContent = result.message || "";  // text only: nothing from the server becomes markup
      item.appendChild(title);
      item.appendChild(verdict);
      item.appendChild(why);
      list.appendChild(item);
    });
    document.getElementById("results").hidden = false;
  }

  function onBotMessage(message) {
    if (message && Array.isArray(message.results)) {
      sessionStorage.setItem(RESULTS_KEY, JSON.stringify(message.results));
      showResults(message.results);
    }
  }

  // The widget draws its buttons as plain <div>s and leaves its text box unlabelled.
  // Make them real controls: focusable, announced as buttons, Enter or Space to choose.
  function makeAccessible(root) {
    root.querySelectorAll(".rw-reply:not([role])").forEach(function (reply) {
      reply.setAttribute("role", "button");
      reply.setAttribute("tabindex", "0");
      reply.addEventListener("keydown", function (event) {
        if (event.key === "Enter" || event.key === " ") {
          event.preventDefault();
          reply.click();
        }
      });
    });
    var box = root.querySelector("textarea.rw-new-message:not([aria-label])");
    if (box) { box.setAttribute("aria-label", "Your answer"); }
    var send = root.querySelector("button.rw-send:not([aria-label])");
    if (send) { send.setAttribute("aria-label", "Send"); }
    var log = root.querySelector("#rw-messages:not([role])");
    if (log) {
      log.setAttribute("role", "log");
      log.setAttribute("aria-live", "polite");
      log.setAttribute("aria-label", "Conversation");
    }
  }

  function start() {
    var box = document.getElementById("webchat");
    var saved = sessionStorage.getItem(RESULTS_KEY);
    if (saved) {
      try { showResults(JSON.parse(saved)); } catch (e) { sessionStorage.removeItem(RESULTS_KEY); }
    }
    window.WebChat.default({
      initPayload: "/greet",
      socketUrl: box.getAttribute("data-socket-url"),
      socketPath: box.getAttribute("data-socket-path"),
      title: "Study check",
      subtitle: "Short questions, one at a time",
      inputTextFieldHint: "Type your answer, or tap a button",
      connectingText: "Connecting…",
      embedded: true,
      showFullScreenButton: false,
      showCloseButton: false,
      hideWhenNotConnected: false,
      withRules: false,
      // sessionStorage: a reload keeps the conversation (the same session id is sent
      // again); closing the tab forgets it on this device.
      params: { storage: "session" },
      customMessageDelay: function () { return 300; },
      onSocketEvent: { bot_uttered: onBotMessage }
    }, box);
    makeAccessible(box);
    new MutationObserver(function () { makeAccessible(box); }).observe(box, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
