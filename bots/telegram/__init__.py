"""The Telegram bot, on python-telegram-bot 22: handlers, replies and the application."""
