"""The TTS models and their speakers (sdk-contract §1.6): the one table every TTS route checks.

Speaker names are the API's, per model: 7 for bulbul:v2, 37 for bulbul:v3, 222 persona IDs
(``<name>_<language>_<style>``) for bulbul:v4-flash; a name is valid only for its model (v2/v3
short names are not v4-flash personas). The lists are data kept here, not imported from the
SDK: legacy never depends on a client library (a test checks they match the SDK's types).

The engine behind every model is eSpeak NG, which has one voice per language. A speaker
becomes that voice at a pitch of its own (high for female names, low for male ones) and a
tempo of its own (±8 %), both picked by a stable hash of the name, so a speaker always sounds
the same and two speakers usually differ. eSpeak's voice *variants* (``hi+f3``) would sound
more distinct, but they are not deterministic inside the inference server: the same request
comes out slightly different depending on what was synthesized before, which pitch and rate
never do. The gender of a name is this table's assumption (from the SDK's own v2 list where it
says so, from the first name otherwise).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "DEFAULT_MODEL",
    "DEFAULT_SPEAKER",
    "MODELS",
    "SPEAKERS",
    "Model",
    "SpeakerVoice",
    "voice_of",
]

Model = Literal["bulbul:v2", "bulbul:v3", "bulbul:v4-flash"]
MODELS: Final[tuple[Model, ...]] = ("bulbul:v2", "bulbul:v3", "bulbul:v4-flash")
DEFAULT_MODEL: Final[Model] = "bulbul:v3"  # the API's default when `model` is omitted

_V2: Final = ("anushka", "abhilash", "manisha", "vidya", "arya", "karun", "hitesh")
_V3: Final = (
    "aditya", "ritu", "priya", "neha", "rahul", "pooja", "rohan", "simran", "kavya", "amit",
    "dev", "ishita", "shreya", "ratan", "varun", "manan", "sumit", "roopa", "kabir", "aayan",
    "shubh", "ashutosh", "advait", "anand", "tanya", "tarun", "sunny", "mani", "gokul", "vijay",
    "shruti", "suhani", "mohit", "kavitha", "rehan", "soham", "rupali",
)  # fmt: skip
_V4_FLASH: Final = (
    "arnab_bn_conversation", "roopa_bn_conversational", "bimal_bn_suspense", "aditi_en_stories",
    "aparna_en_companion", "aparna_en_edtech", "ashwin_en_sports", "ashwin_en_sports_energetic",
    "chandrika_en_stories", "dev_en_recovery", "dev_en_conversational", "deven_en_conversation",
    "ishita_en_customer", "ishita_en_medical", "ishita_en_numbers", "ishita_en_social",
    "ishita_en_stories", "kalpit_en_edtech", "nachiket_en_ads", "neha_en_customer",
    "neha_en_latenight", "nupur_en_kids", "ojas_en_social", "ritu_en_edtech", "ritu_en_latenight",
    "ritu_en_medical", "ritu_en_reels", "rohan_en_recovery", "roopa_en_conversational",
    "rustom_en_suspense", "sanchita_en_companion", "sanchita_en_insurance",
    "sanchita_en_recovery", "sanchita_en_market", "sanchita_en_social", "shabana_en_edtech",
    "shalini_en_companion", "shalini_en_customer", "shubh_en_narration", "shubh_en_numbers",
    "shubh_en_ads", "shubh_en_recovery", "shubh_en_audiobook", "shubh_en_narration_gentle",
    "shubh_en_sports", "simran_en_narration", "simran_en_automobile", "simran_en_conversation",
    "simran_en_customer", "simran_en_edtech", "simran_en_edtech_bot", "simran_en_sales",
    "simran_en_recovery", "simran_en_ads", "simran_en_therapist", "sunny_en_social",
    "varun_en_ads", "varun_en_suspense", "zarina_en_conversation", "amelia_en_conversational",
    "sophia_en_conversational", "girish_en_documentary", "girish_en_devotional",
    "payal_en_edtech", "sarang_en_narration", "ishita_enhi_companion", "ishita_enhi_customer",
    "ishita_enhi_customer_expressive", "sanchita_enhi_companion", "shalini_enhi_companion",
    "shalini_enhi_customer", "shubh_enhi_companion", "shubh_enhi_ads", "shubh_enhi_banking",
    "simran_enhi_companion", "simran_enhi_customer", "simran_enhi_banking_expressive",
    "sunny_enhi_customer", "bhavik_gu_conversation", "pooja_gu_conversational",
    "pooja_gu_customer", "aayan_hi_conversational", "amit_hi_conversational",
    "ashutosh_hi_conversational", "kabir_hi_conversational", "kavya_hi_conversational",
    "manan_hi_conversational", "rahul_hi_conversational", "sumit_hi_conversational",
    "aditya_hi_conversational", "aditya_hi_sales", "anand_hi_documentary", "anand_hi_news",
    "aparna_hi_customer", "aparna_hi_kyc", "ashok_hi_character", "ashok_hi_news",
    "chhavi_hi_kids", "ishita_hi_ads", "ishita_hi_edtech", "ishita_hi_banking",
    "ishita_hi_ads_informal", "ishita_hi_devotional", "ishita_hi_numbers", "ishita_hi_social",
    "kunal_hi_kids", "mahesh_hi_documentary", "mani_hi_devotional", "mani_hi_conversational",
    "mohit_hi_conversational", "nachiket_hi_devotional", "priya_hi_recovery",
    "ratan_hi_latenight", "ratan_hi_customer_expressive", "ratan_hi_documentary",
    "ratan_hi_devotional", "ratan_hi_recovery", "ratan_hi_social", "ratan_hi_sports",
    "ratan_hi_latenight_warm", "rehan_hi_social", "ritu_hi_customer_utility", "ritu_hi_kids",
    "ritu_hi_conversation", "ritu_hi_customer", "ritu_hi_edtech", "ritu_hi_ads_formal",
    "ritu_hi_banking", "ritu_hi_ads_informal", "ritu_hi_insurance", "ritu_hi_edtech_bot",
    "ritu_hi_medical", "ritu_hi_sales", "ritu_hi_reels", "ritu_hi_social",
    "ritu_hi_customer_warm", "ritu_hi_social_lively", "roopa_hi_companion", "roopa_hi_narration",
    "roopa_hi_recovery", "roopa_hi_market", "roopa_hi_conversational", "sanchita_hi_assistant",
    "sanchita_hi_edtech", "sanchita_hi_banking", "sanchita_hi_feedback", "sanchita_hi_ads_formal",
    "sanchita_hi_ads_informal", "sanchita_hi_interview", "sanchita_hi_romantic",
    "sanchita_hi_market", "sanchita_hi_social", "sanchita_hi_kyc", "sarika_hi_conversation",
    "shalini_hi_companion", "shalini_hi_social", "shreya_hi_conversational", "shreya_hi_news",
    "shruti_hi_edtech", "shubh_hi_customer", "shubh_hi_ecomm", "shubh_hi_stories_mixed",
    "shubh_hi_devotional", "shubh_hi_ads", "shubh_hi_recovery", "shubh_hi_stories_dramatic",
    "simran_hi_assistant", "simran_hi_narration", "simran_hi_automobile",
    "simran_hi_conversation", "simran_hi_news_breaking", "simran_hi_social_energetic",
    "simran_hi_social_excited", "simran_hi_latenight", "simran_hi_news", "simran_hi_recovery",
    "simran_hi_sales", "suchitra_hi_ecomm", "suhani_hi_social", "sunny_hi_ads", "sunny_hi_reels",
    "tarun_hi_conversational", "tarun_hi_sales", "chaitra_hi_customer", "shilpa_hi_narration",
    "tanya_hi_narration", "aarti_hi_customer", "advait_hi_character", "aryaman_hi_ads",
    "chirag_hi_social", "girish_hi_devotional", "mukul_hi_ads", "mukul_hi_suspense",
    "suman_hi_companion", "vaibhav_hi_social", "vandana_hi_ecomm", "vipul_hi_social",
    "chaitra_kn_conversation", "chaitra_kn_narration", "chetan_kn_conversation",
    "suchitra_kn_narration", "ishita_mr_conversational", "mrunal_mr_narration",
    "neha_mr_narration", "nilesh_mr_conversation", "ritu_mr_insurance", "ritu_mr_narration",
    "rupali_mr_stories", "soham_mr_narration", "mukul_mr_stories", "anand_pa_conversation",
    "anand_pa_customer", "harpreet_pa_narration", "jaspal_pa_banking", "gokul_ta_narration",
    "aravind_ta_ads", "aravind_ta_suspense", "vijay_ta_narration", "kavitha_te_conversation",
    "kavitha_te_narration", "pooja_te_conversation", "tarun_te_narration",
)  # fmt: skip

SPEAKERS: Final[dict[Model, frozenset[str]]] = {
    "bulbul:v2": frozenset(_V2),
    "bulbul:v3": frozenset(_V3),
    "bulbul:v4-flash": frozenset(_V4_FLASH),
}
DEFAULT_SPEAKER: Final[dict[Model, str]] = {
    "bulbul:v2": "anushka", "bulbul:v3": "shubh", "bulbul:v4-flash": "shubh_enhi_ads",
}  # fmt: skip

_FEMALE: Final = frozenset({
    "aarti", "aditi", "amelia", "anushka", "aparna", "arya", "chaitra", "chandrika", "chhavi",
    "harpreet", "ishita", "kavitha", "kavya", "manisha", "mrunal", "neha", "nupur", "payal",
    "pooja", "priya", "ritu", "roopa", "rupali", "sanchita", "sarika", "shabana", "shalini",
    "shilpa", "shreya", "shruti", "simran", "sophia", "suchitra", "suhani", "suman", "tanya",
    "vandana", "vidya", "zarina",
})  # fmt: skip
_FEMALE_PITCHES: Final = (68, 72, 76, 80, 84)  # eSpeak pitch, 0-100 (50 = the voice's own)
_MALE_PITCHES: Final = (18, 24, 30, 36, 42)
_TEMPOS: Final = (0.92, 0.96, 1.0, 1.04, 1.08)


@dataclass(frozen=True, slots=True)
class SpeakerVoice:
    pitch: int  # eSpeak pitch, 0-100, before the request's own pitch shift
    tempo: float  # multiplies the speaking rate, before the request's pace


def voice_of(speaker: str) -> SpeakerVoice:
    """How a speaker sounds on eSpeak NG; the same on every run and every release."""
    first_name = speaker.split("_", 1)[0]
    pitches = _FEMALE_PITCHES if first_name in _FEMALE else _MALE_PITCHES
    digest = zlib.crc32(speaker.encode())
    return SpeakerVoice(pitches[digest % len(pitches)], _TEMPOS[digest // 7 % len(_TEMPOS)])
