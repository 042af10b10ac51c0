"""WTForms forms rendered with the GOV.UK widgets; messages follow GOV.UK error style."""
