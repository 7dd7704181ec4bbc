"""The HTML side of the app: URLs, forms, middleware, views per page family, presenters."""
