"""Checking a step: composes evaluation, judging, errors carried forward, diagnosis and graph answers."""
