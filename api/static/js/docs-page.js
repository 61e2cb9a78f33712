// The /docs page: Swagger UI over /openapi.json (a file, not inline: the CSP allows scripts from this server only).
// validatorUrl null: swagger-ui would otherwise send the schema to an online validator.
window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  tryItOutEnabled: true,
});
