using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace DePin.Silo.Api.Auth;

/// <summary>
/// Declares the API key in the OpenAPI document: a bearer security scheme, required by every operation that is not
/// anonymous (the <c>X-Api-Key</c> header works too; the document names the bearer form).
/// </summary>
internal static class ApiKeyOpenApi
{
    private const string SchemeId = "apiKey";

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[SchemeId] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "dpk_<keyId>_<secret>",
                Description = "An API key: client role for jobs, nodes and settlement; admin role for epochs, keys and metrics.",
            };
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            if (metadata.OfType<IAllowAnonymous>().Any()) return Task.CompletedTask;
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(SchemeId, context.Document)] = [] });
            return Task.CompletedTask;
        });
    }
}
