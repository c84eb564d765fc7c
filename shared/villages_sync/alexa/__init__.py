"""Adapters for Alexa's APIs (Login with Amazon, Skill Messaging, Reminders) over HTTPS.

Each takes its transport (``JsonHttp``) and its sleep as arguments; what a status means is
``villages_sync.reminders.delivery`` (pure).
"""
