from flask import Flask
import os
import socket

app = Flask(__name__)


@app.route("/")
def hello():
    return "Hello, {name}!\n".format(name=os.getenv("NAME", "world"))


@app.route("/host")
def host():
    return "<h3>Hello {name}!</h3><b>Hostname:</b> {hostname}<br/>\n".format(
        name=os.getenv("NAME", "world"), hostname=socket.gethostname())


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=80)
