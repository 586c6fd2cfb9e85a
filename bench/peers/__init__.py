"""The peers on the 10-step page (`python -m bench --peers`): driver.py runs them from the
benchmark; app.py, mapper_app.py and strawchemy_app.py are their servers, run by .venv-peers."""
