"""Scoring answers on the published rubric (app/data/rubric.json): heuristic, LLM, and the fallback between them."""
