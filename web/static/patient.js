// The patient page: start the chat widget (rasa-webchat, served from this site), show the
// results as one short card per study (from the assistant's machine-readable results), and
// keep the page usable by keyboard and screen reader: focus follows each new question, the
// results are announced and scrolled into view, a new screening clears them.
// The page's texts here come from the page (data-texts on #webchat: translated by the
// server, in the page's language). The chat hears the page's language with every message
// (customData.language); when the patient switched the page's language mid-conversation,
// the page asks the assistant for it in words ("请用中文" / "English please"), shown in the
// chat: the assistant says so and asks the current question again, keeping the answers.
(function () {
  "use strict";
  var RESULTS_KEY = "prescreen-results";
  var RESULTS_LANGUAGE_KEY = "prescreen-results-language";  // the language the cards are written in
  var LANGUAGE_KEY = "prescreen-chat-language";  // the language the chat was last asked to use
  var CLASSES = {possibly_eligible: "may-fit", possibly_eligible_later: "may-fit-later"};
  var QUESTION = ".rw-from-response .rw-message-text";
  var texts = {labels: {}};
  var focusTimer = null;
  var seenQuestions = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text) { node.textContent = text; }  // text only: nothing from the server becomes markup
    return node;
  }

  function list(title, items) {
    var frag = document.createDocumentFragment();
    if (!items || !items.length) { return frag; }
    var head = el("p", "details-head");
    head.appendChild(el("strong", "", title));
    frag.appendChild(head);
    var ul = el("ul");
    items.forEach(function (item) { ul.appendChild(el("li", "", item)); });
    frag.appendChild(ul);
    return frag;
  }

  function card(result, labels) {
    var item = el("li", "card result " + (CLASSES[result.verdict] || "no-fit"));
    item.setAttribute("data-trial-id", result.trial_id);
    item.appendChild(el("h3", "", result.title || result.trial_id));
    item.appendChild(el("p", "verdict", result.verdict_text || result.verdict));
    var body = el("div", "card-body");
    [result.when, result.reason, result.where, result.next].forEach(function (text) {
      if (text) { body.appendChild(el("p", "", text)); }
    });
    if (result.phone && result.phone_text) {  // no phone line on a study that does not fit
      var line = el("p", "phone", texts.phone + " ");
      var link = el("a", "", result.phone);
      link.href = "tel:" + String(result.phone).replace(/[^0-9+]/g, "");
      line.appendChild(link);
      body.appendChild(line);
    } else if (result.phone_text) {
      body.appendChild(el("p", "phone", result.phone_text));
    }
    item.appendChild(body);
    var details = result.details;
    if (details) {
      var more = el("details", "more");
      more.appendChild(el("summary", "", labels.more));
      if (details.summary) { more.appendChild(el("p", "", details.summary)); }
      (details.notes || []).forEach(function (note) { more.appendChild(el("p", "", note)); });
      more.appendChild(list(labels.other_reasons, details.other_reasons));
      more.appendChild(list(labels.checks, details.checks));
      item.appendChild(more);
    }
    return item;
  }

  function showResults(payload, announce, language) {
    var labels = Object.assign({}, texts.labels, payload.labels || {});
    var cards = document.getElementById("result-cards");
    cards.textContent = "";
    // Cards kept from before a switch stay in their own language, and say so to screen readers.
    if (language && language !== texts.language && texts.html_lang[language]) {
      cards.setAttribute("lang", texts.html_lang[language]);
    } else {
      cards.removeAttribute("lang");
    }
    payload.results.forEach(function (result) { cards.appendChild(card(result, labels)); });
    var section = document.getElementById("results");
    section.hidden = false;
    if (announce) {
      document.getElementById("results-status").textContent =
        (payload.summary || "") + " " + labels.announce_where;
      var heading = document.getElementById("results-h");
      section.scrollIntoView({block: "start"});
      heading.focus({preventScroll: true});
    }
  }

  function clearResults() {
    sessionStorage.removeItem(RESULTS_KEY);
    sessionStorage.removeItem(RESULTS_LANGUAGE_KEY);
    document.getElementById("result-cards").textContent = "";
    document.getElementById("results").hidden = true;
    document.getElementById("results-status").textContent = "";
  }

  function startsScreening(message) {
    // The first question of every screening ("who is answering?") offers "I am the patient".
    var replies = (message && (message.quick_replies || message.buttons)) || [];
    return replies.some(function (reply) { return /"choice":\s*"self"/.test(reply.payload || ""); });
  }

  function onBotMessage(message) {
    if (message && Array.isArray(message.results) && message.results.length) {
      sessionStorage.setItem(RESULTS_KEY, JSON.stringify(message));
      sessionStorage.setItem(RESULTS_LANGUAGE_KEY, texts.language);
      showResults(message, true, texts.language);
    } else if ((message && Array.isArray(message.results)) || startsScreening(message)) {
      // {"results": []} withdraws the cards (a screening reopened); so does a new screening.
      clearResults();
    }
  }

  // Focus follows the conversation: after an answer, the new question gets focus (its
  // buttons come next in the tab order), unless the patient is typing in the text box (the
  // log announces it there) or has moved elsewhere on the page on purpose.
  function focusLatestQuestion(force) {
    var box = document.getElementById("webchat");
    var questions = box.querySelectorAll(QUESTION);
    var latest = questions[questions.length - 1];
    if (!latest) { return; }
    var active = document.activeElement;
    var idle = !active || active === document.body || active === document.documentElement;
    var inChat = active && box.contains(active) && !active.matches("textarea");
    if (force || idle || inChat) {
      latest.setAttribute("tabindex", "-1");
      latest.focus();
    }
  }

  function watchQuestions(box) {
    var count = box.querySelectorAll(QUESTION).length;
    if (count > seenQuestions) {
      var first = seenQuestions === 0;
      seenQuestions = count;
      clearTimeout(focusTimer);
      // The widget shows a reply's messages one after another: wait for the last one.
      if (!first) { focusTimer = setTimeout(function () { focusLatestQuestion(false); }, 700); }
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
    if (box) { box.setAttribute("aria-label", texts.answer); }
    var send = root.querySelector("button.rw-send:not([aria-label])");
    if (send) { send.setAttribute("aria-label", texts.send); }
    var log = root.querySelector("#rw-messages:not([role])");
    if (log) {
      log.setAttribute("role", "log");
      log.setAttribute("aria-live", "polite");
      log.setAttribute("aria-label", texts.conversation);
      log.setAttribute("tabindex", "0");  // a scrolling region: reachable by keyboard to scroll back
    }
  }

  function start() {
    var box = document.getElementById("webchat");
    texts = JSON.parse(box.getAttribute("data-texts"));
    var widget = null;
    // A conversation that went on in the other language (the patient just used the switch)
    // is asked, once its session is confirmed again, to go on in this one. A new conversation
    // (no session yet, or the server issued another) starts in this language by itself.
    var told = sessionStorage.getItem(LANGUAGE_KEY);
    var session = null;
    try { session = (JSON.parse(sessionStorage.getItem("chat_session")) || {}).session_id || null; } catch (e) { session = null; }
    var switched = told !== null && told !== texts.language && session !== null;
    if (!switched) { sessionStorage.setItem(LANGUAGE_KEY, texts.language); }
    function onConnected(confirmed) {
      var id = confirmed && confirmed.session_id ? confirmed.session_id : confirmed;
      if (!switched) { return; }
      switched = false;
      sessionStorage.setItem(LANGUAGE_KEY, texts.language);
      if (id !== session) { return; }
      (function ask() {  // once the widget has handled the confirmation itself
        if (widget) { widget.sendMessage(texts.ask_for_language, texts.ask_for_language); } else { setTimeout(ask, 100); }
      })();
    }
    var saved = sessionStorage.getItem(RESULTS_KEY);
    if (saved) {
      try {
        var payload = JSON.parse(saved);
        if (Array.isArray(payload.results)) {
          showResults(payload, false, sessionStorage.getItem(RESULTS_LANGUAGE_KEY));
        } else { clearResults(); }
      } catch (e) { clearResults(); }
    }
    document.getElementById("to-chat").addEventListener("click", function () { focusLatestQuestion(true); });
    window.WebChat.default({
      initPayload: texts.start,
      // Sent with every message (rasa-webchat calls a message's metadata "customData"; Rasa's
      // socketio channel must read that key for it to reach actions/language.py as metadata).
      customData: {language: texts.language},
      innerRef: function (ref) { if (ref) { widget = ref; } },
      socketUrl: box.getAttribute("data-socket-url"),
      socketPath: box.getAttribute("data-socket-path"),
      title: texts.title,
      subtitle: texts.subtitle,
      inputTextFieldHint: texts.hint,
      connectingText: texts.connecting,
      embedded: true,
      showFullScreenButton: false,
      showCloseButton: false,
      hideWhenNotConnected: false,
      withRules: false,
      // sessionStorage: a reload keeps the conversation (the same session id is sent
      // again); closing the tab forgets it on this device.
      params: { storage: "session" },
      customMessageDelay: function () { return 300; },
      onSocketEvent: { bot_uttered: onBotMessage, session_confirm: onConnected }
    }, box);
    makeAccessible(box);
    new MutationObserver(function () {
      makeAccessible(box);
      watchQuestions(box);
    }).observe(box, { childList: true, subtree: true });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
