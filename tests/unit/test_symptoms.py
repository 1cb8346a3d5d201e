"""The curated symptom table, without a database: many wordings of one fault give one key, other
faults and other topics do not, the match says which entry matched, device models are normalised,
and a bad table is refused naming its file, line and entry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from onethread.decisions import symptoms
from onethread.decisions.symptoms import SymptomTableError, normalise_model, parse, singular

TABLE = symptoms.table()

SAME_FAULT = {
    "audio_jack": [
        "headphone jack", "no sound in earphones", "audio socket faulty",  # docs/stories.md S1, issue 5
        "Headphone jack not working", "HEADPHONE-JACK BROKEN!!", "my earphones don't work",
        "I can't hear anything through my ear-phones", "The 3.5mm jack is loose",
        "nothing comes out of the headphones", "headphones not detected when plugged in",
        "the aux port is dead", "earphone socket is faulty", "no audio in my headset",
    ],
    "no_sound": ["no sound", "the speaker crackles", "I can't hear the caller", "Volume gone completely"],
    "microphone_fault": ["they can't hear me on calls", "the mic is broken", "people cannot hear me"],
    "battery_drain": ["battery drains fast", "batteries die within 2 hours", "Battery doesn't last a day",
                      "battery goes flat overnight", "poor battery life"],
    "wont_charge": ["won't charge", "phone is not charging", "charging port loose", "Charger not recognised",
                    "it will not charge at all", "stopped charging yesterday"],
    "screen_flicker": ["screen keeps flickering", "the display flashes", "green line on screen", "screen flicker"],
    "camera_fault": ["camera photos blurry", "pictures are blurry", "the camera won't focus", "selfie cam broken"],
    "no_signal": ["no signal at home", "calls keep dropping", "emergency calls only", "weak reception indoors"],
    "random_restart": ["keeps restarting itself", "turns off randomly", "the phone switches off by itself",
                       "stuck in a boot loop"],
    "wont_power_on": ["won't turn on", "phone is completely dead", "doesn't switch on"],
    "sim_not_detected": ["SIM not recognised", "no SIM card detected", "invalid sim"],
    "touchscreen_fault": ["touch screen doesn't respond", "ghost touches", "screen not responding to taps"],
}
NOT_A_FAULT = [
    "", "   ", "I want to upgrade my tariff", "my name is Jack and my bill is wrong", "please close my account",
    "why was I charged twice?", "thank you", "!!!", "12345",
]


@pytest.mark.parametrize("key,wording", [(k, w) for k, ws in SAME_FAULT.items() for w in ws])
def test_different_wordings_of_one_fault_give_one_key(key, wording):
    found = TABLE.match(wording)
    assert found is not None, wording
    assert found.symptom == key, found.explain()
    assert found.symptom in TABLE.symptoms and found.label == TABLE.symptoms[key].label


@pytest.mark.parametrize("wording", NOT_A_FAULT)
def test_other_topics_match_no_symptom(wording):
    assert TABLE.match(wording) is None


def test_the_match_says_which_entry_matched():
    phrase = TABLE.match("Audio socket faulty")
    assert (phrase.how, phrase.entry, phrase.matched) == ("phrase", "audio socket", "audio socket")
    assert phrase.explain() == "audio_jack: the phrase 'audio socket' matched 'audio socket'"
    word_set = TABLE.match("no sound in earphones")
    assert word_set.how == "words" and word_set.matched == "sound earphone"
    assert "earphone" in word_set.entry and "sound" in word_set.entry
    assert TABLE.match("audio_jack").how == "key"


def test_a_part_of_the_device_beats_a_generic_symptom():
    assert TABLE.match("no sound").symptom == "no_sound"
    assert TABLE.match("no sound in the earphones").symptom == "audio_jack"
    both = TABLE.candidates("no sound in the earphones")
    assert [m.symptom for m in both] == ["audio_jack", "no_sound"]


def test_several_faults_are_ranked_the_same_way_every_time():
    wording = "it won't charge and the screen flickers"
    first = [m.symptom for m in TABLE.candidates(wording)]
    assert sorted(first) == ["screen_flicker", "wont_charge"]
    assert all([m.symptom for m in TABLE.candidates(wording)] == first for _ in range(5))
    # The longer entry wins: "wont charge" (2 words) over "flicker" (1 word).
    assert first[0] == "wont_charge"


@pytest.mark.parametrize("word,single", [
    ("earphones", "earphone"), ("batteries", "battery"), ("switches", "switch"), ("glasses", "glass"),
    ("dies", "die"), ("status", "status"), ("this", "this"), ("bus", "bus"), ("wireless", "wireless"),
])
def test_simple_plurals(word, single):
    assert singular(word) == single


def test_case_punctuation_and_spelling_do_not_matter():
    assert TABLE.tokens("Won't CHARGE -- the USB-C port!") == ["wont", "charge", "the", "usb", "c", "port"]
    assert TABLE.tokens("ear-phones") == TABLE.tokens("Earphones") == ["earphone"]
    assert TABLE.tokens("3.5mm") == ["3", "5", "mm"]


@pytest.mark.parametrize("raw", ["Nimbus X2", " nimbus  x2 ", "NIMBUS-X2", "nimbus_x2", "Nimbus\tX2"])
def test_device_models_are_normalised(raw):
    assert normalise_model(raw) == "nimbus x2"


def test_every_phrase_of_the_table_finds_its_own_symptom():
    for symptom in TABLE.symptoms.values():
        for phrase in symptom.phrases:
            found = TABLE.match(f"  {phrase.text.upper()}!! ")
            assert found is not None and found.symptom == symptom.key, (symptom.key, phrase.text)


@given(key=st.sampled_from(sorted(SAME_FAULT)), data=st.data())
def test_noise_around_a_wording_does_not_change_its_key(key, data):
    wording = data.draw(st.sampled_from(SAME_FAULT[key]))
    before = data.draw(st.sampled_from(["", "hello, ", "Since Monday ", "Honestly: "]))
    after = data.draw(st.sampled_from(["", ".", "!!", " - please help", " since I bought it"]))
    upper = data.draw(st.booleans())
    text = before + (wording.upper() if upper else wording) + after
    assert TABLE.match(text).symptom == key


def test_the_proposal_rule_ships_with_the_table():
    assert TABLE.proposal.threshold == 3 and TABLE.proposal.window_days == 30


# --- a bad table is refused, naming file, line and entry ------------------------------------

GOOD = """\
version: 1
proposal: {threshold: 3, window_days: 30}
symptoms:
  audio_jack:
    label: Headphone jack
    phrases: [headphone jack]
  no_sound:
    label: No sound
    generic: true
    phrases:
      - no sound
"""


def refused(source: str) -> SymptomTableError:
    with pytest.raises(SymptomTableError) as caught:
        parse(source, "table.yaml")
    return caught.value


def test_a_small_good_table_parses():
    table = parse(GOOD, "table.yaml")
    assert table.match("no sound in the headphone jack").symptom == "audio_jack"


@pytest.mark.parametrize("change,line,words", [
    (("      - no sound", "      - headphone jack"), 11, "'headphone jack' already belongs to 'audio_jack'"),
    (("threshold: 3", "threshold: 1"), 2, "proposal: threshold must be a whole number from 2"),
    (("window_days: 30", "window_days: soon"), 2, "window_days"),
    (("    label: Headphone jack\n", "    lable: Headphone jack\n"), 5,
     "symptom 'audio_jack' has an unknown key 'lable'"),
    (("  no_sound:", "  No-Sound:"), 7, "symptom 'No-Sound': a key is lower-case"),
    (("    generic: true", "    generic: often"), 9, "generic must be true or false"),
    (("    phrases: [headphone jack]", "    phrases: [headphone jack]\n    words: [[sound]]"), 7,
     "needs at least two items"),
    (("    phrases: [headphone jack]", "    words: [[no sound, jack]]"), 6, "'no sound' must be one word"),
    (("    phrases: [headphone jack]", "    phrases: [headphone jack\n"), None, "not valid YAML"),
    (("    label: Headphone jack\n    phrases: [headphone jack]\n", "    label: Headphone jack\n"), 5,
     "symptom 'audio_jack' needs phrases or words"),
])
def test_a_bad_table_names_file_line_and_entry(change, line, words):
    old, new = change
    assert old in GOOD
    error = refused(GOOD.replace(old, new, 1))
    assert str(error).startswith("table.yaml")
    assert words in str(error), str(error)
    if line is not None:
        assert error.line == line, str(error)


def test_an_empty_or_keyless_table_is_refused():
    assert "empty" in str(refused(""))
    assert "is missing proposal" in str(refused("version: 1\nsymptoms: {}\n"))
