using DePin.Silo.Api.Auth;
using DePin.Silo.NodeGateway;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace DePin.Silo.Api;

/// <summary>
/// The conventions of <c>/openapi/v1.json</c>, applied to every operation so that a new endpoint follows them without
/// thinking: the two credentials as security schemes (API keys for clients and admins, session tokens for nodes), the
/// security of each operation derived from its authorization metadata (anonymous ones say so explicitly), and the
/// 401/403 answers every protected operation can give. The document lints clean with Redocly's recommended rules
/// (checked by <c>OpenApiContractTests</c>), so client apps can generate typed clients from it.
/// </summary>
public static class DePinOpenApi
{
    private const string ApiKeyScheme = "apiKey";
    private const string NodeTokenScheme = "nodeToken";

    private static readonly Dictionary<string, string> TagDescriptions = new()
    {
        ["Jobs"] = "Submit compute jobs, follow them and fetch their verified results (client key; each key sees its own jobs).",
        ["Catalog"] = "The vetted kernels a job may run.",
        ["Nodes"] = "The compute nodes of the network: capabilities, liveness, standing.",
        ["Rewards"] = "Operators' earnings, epochs and their on-chain settlement (public, verifiable by anyone).",
        ["Keys"] = "API key management (admin key).",
        ["Node protocol"] = "How community node agents log in, lease units, report results and stay alive (node session token).",
    };

    /// <summary>Registers the document and operation transformers.</summary>
    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, context, _) =>
        {
            document.Info.Title = "DePin.Orleans API";
            document.Info.Description = "Decentralized GPU compute: submit jobs to a network of GPU nodes, get verified results back; " +
                "community nodes join through the node protocol. Errors are RFC 7807 problem+json.";
            document.Info.License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" };
            // The server is the address the document was fetched from, without a trailing slash (paths begin with one).
            foreach (var server in document.Servers ?? []) server.Url = server.Url?.TrimEnd('/');
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "dpk_<keyId>_<secret>",
                Description = "An API key (also accepted as X-Api-Key): client role for jobs, nodes and settlement; admin role for epochs, keys and metrics.",
            };
            document.Components.SecuritySchemes[NodeTokenScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = "A node session token from POST /node/v1/register (15 minutes), good for that agent's own devices only.",
            };
            document.Tags ??= new HashSet<OpenApiTag>();
            foreach (var (name, description) in TagDescriptions)
            {
                if (document.Tags.FirstOrDefault(t => t.Name == name) is { } tag) tag.Description = description;
                else document.Tags.Add(new OpenApiTag { Name = name, Description = description });
            }
            return Task.CompletedTask;
        });

        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            operation.Responses ??= new OpenApiResponses();
            if (metadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security = [new OpenApiSecurityRequirement()]; // explicitly: no credentials needed
                return Task.CompletedTask;
            }
            var policies = metadata.OfType<IAuthorizeData>().Select(a => a.Policy).ToList();
            var scheme = policies.Contains(NodeTokens.Policy) ? NodeTokenScheme : ApiKeyScheme;
            operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(scheme, context.Document)] = [] }];
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing, invalid, expired or revoked credentials (problem+json)." });
            operation.Responses.TryAdd("403", new OpenApiResponse
            {
                Description = scheme == NodeTokenScheme
                    ? "The session token does not cover this node (problem+json)."
                    : policies.Contains(DePinAuthentication.AdminPolicy)
                        ? "The key is not an admin key (problem+json)."
                        : "The key's role may not do this (problem+json).",
            });
            return Task.CompletedTask;
        });
    }
}
