from pcn.cli.main import app

app(prog_name="pcn")
