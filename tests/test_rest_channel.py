"""Whole screenings through the REST channel, against the real servers (`assistant`, conftest.py)."""
from servers import patient_reply


def screen(assistant, sender, first="hello", limit=30):
    messages = assistant.say(sender, first)
    for _ in range(limit):
        results = [m["custom"] for m in messages if "custom" in m]
        if results:
            return messages, results[0]
        messages = assistant.say(sender, patient_reply(messages))
    raise AssertionError(f"no results after {limit} messages: {messages}")


def test_full_screening_reaches_results_for_every_trial(assistant):
    messages, payload = screen(assistant, "rest-patient-1")
    verdicts = {r["trial_id"]: r["verdict"] for r in payload["results"]}
    assert len(verdicts) == 5 and set(verdicts.values()) == {"possibly_eligible"}
    for result in payload["results"]:
        assert result["criteria"] and {c["status"] for c in result["criteria"]} <= {
            "met", "not_met", "unknown", "verify_site"}
    texts = " ".join(m.get("text", "") for m in messages).lower()
    assert "may be a match" in texts and "you are eligible" not in texts


def test_buttons_are_sent_with_payloads(assistant):
    messages = assistant.say("rest-patient-2", "hi")
    buttons = [b for m in messages for b in m.get("buttons", [])]
    assert {"title": "I am the patient", "payload": '/inform{"choice": "self"}'} in buttons
    messages = assistant.say("rest-patient-2", '/inform{"choice": "guardian"}')
    assert "your child" in messages[-1]["text"]


def test_a_conversation_resumes_after_rasa_restarts(assistant):
    sender = "rest-patient-restart"
    assistant.say(sender, "hello")
    assistant.say(sender, "my daughter")
    before = assistant.say(sender, "lupus")
    assert "your child" in before[-1]["text"]
    assistant.stop_rasa()
    assistant.start_rasa()
    after = assistant.say(sender, "yes")  # answers the question asked before the restart
    assert after[-1]["text"] != before[-1]["text"] and "your child" in after[-1]["text"].lower()


def test_stop_ends_the_screening(assistant):
    assistant.say("rest-patient-3", "hello")
    messages = assistant.say("rest-patient-3", "stop")
    assert "I've stopped" in messages[-1]["text"]


def test_go_back_after_the_results_reopens_the_last_question(assistant):
    sender = "rest-patient-4"
    assistant.say(sender, "hello")
    assistant.say(sender, "me")
    read_back = assistant.say(sender, "rheumatoid arthritis")
    assert "Is that right?" in read_back[-1]["text"]  # typed, and it rules every study out
    results = assistant.say(sender, "yes that's right")
    assert any("custom" in m for m in results)
    messages = assistant.say(sender, "go back")
    assert "Which illness" in messages[-1]["text"]
    messages = assistant.say(sender, "lupus")
    assert "Which illness" not in messages[-1]["text"] and messages[-1]["buttons"]
