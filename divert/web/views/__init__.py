"""Page blueprints. Views stay thin: permission, form, one call, render or redirect."""
