"""Core of the pre-screening assistant: trials, rules, planner. No Rasa imports here.

The action server imports this package, and it must stay light: importing `rasa`
would pull in TensorFlow.
"""
