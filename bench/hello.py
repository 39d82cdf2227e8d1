"""The baseline of `make bench`: the smallest Flask app, served by gunicorn with the same settings as Trygga hus.

What the app's scenarios are compared with is the stack's own limit on this machine (Flask under these gunicorn
workers, driven by the same load generator), not a figure the app chooses.
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
