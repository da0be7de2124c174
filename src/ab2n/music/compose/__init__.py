"""The score: music composed for the video (plan, harmony, melody, drums, synth)."""
