from roster import create_app

app = create_app()
