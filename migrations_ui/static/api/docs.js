// The interactive API docs, from the vendored Swagger UI (no CDN). Settings come from data
// attributes, so the page needs no inline script (the site's CSP allows none).
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.getAttribute("data-csrf-token");
  window.ui = SwaggerUIBundle({
    url: body.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    layout: "BaseLayout",
    persistAuthorization: false,
    // A logged-in browser calls the API with its session: send the CSRF token, as Django
    // requires for writes. Bearer-token calls ignore it.
    requestInterceptor: function (request) {
      if (csrf) {
        request.headers["X-CSRFToken"] = csrf;
      }
      return request;
    },
  });
})();
