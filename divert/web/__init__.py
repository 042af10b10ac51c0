"""The pages: thin views, their forms, templates and template filters."""
