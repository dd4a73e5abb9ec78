using DePin.Abstractions.Nodes;
using DePin.Grains.Nodes;
using DePin.Silo.Api.Auth;
using static DePin.Silo.Api.ApiProblems;

namespace DePin.Silo.Api;

/// <summary><c>/nodes</c> (client keys): registered compute nodes.</summary>
public static class NodesEndpoints
{
    /// <summary>Maps the nodes group.</summary>
    public static RouteGroupBuilder MapNodesEndpoints(this IEndpointRouteBuilder app)
    {
        var nodes = app.MapGroup("/nodes").WithTags("Nodes").RequireAuthorization(DePinAuthentication.ClientPolicy);
        nodes.MapGet("/", ListNodesAsync).WithName("listNodes").WithSummary("Registered nodes, ordered by id")
            .Produces<IReadOnlyList<NodeView>>().ProducesProblem(400);
        nodes.MapGet("/{**nodeId}", GetNodeAsync).WithName("getNode").WithSummary("One node: operator, capabilities, liveness, standing")
            .Produces<NodeView>().ProducesProblem(404);
        return nodes;
    }

    private static async Task<IResult> ListNodesAsync(IGrainFactory grains, int? offset, int? limit)
    {
        if (InvalidPaging(offset, limit, 10_000) is { } problem) return problem;
        return TypedResults.Ok(await NodeDirectory.ListAsync(grains, offset ?? 0, limit ?? 1000));
    }

    private static async Task<IResult> GetNodeAsync(string nodeId, IGrainFactory grains) =>
        await grains.GetGrain<INodeGrain>(nodeId).GetAsync() is { } node
            ? TypedResults.Ok(node)
            : Problem(404, "Unknown node", $"No node '{nodeId}' is registered.");
}
