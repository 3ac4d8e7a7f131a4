from custfocus.cli import app

app(prog_name="custfocus")
