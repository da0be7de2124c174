"""The score: music composed for the video (plan, harmony, melody, drums, synth).

    profile ──> plan.plan_score ──> ScorePlan (tempo map, sections, accents)
                                      └─> score.compose ──> notes per stem ──> synth ──> bed WAV

``score.plan_for`` picks the style, key and tempo range from the mood and words; the draft stores
the ScorePlan (``score.music_plan_json``) and the mix stage renders it (``score.render_plan_bed``).
"""

#: The music source that means "compose it" (``--music compose``, a draft's BGM ``src``).
COMPOSE = "compose"
