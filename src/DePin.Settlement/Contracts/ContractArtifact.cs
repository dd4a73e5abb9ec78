using System.Reflection;
using System.Text.Json;

namespace DePin.Settlement.Contracts;

/// <summary>ABI + bytecode of a contract compiled by <c>contracts/compile.mjs</c>, embedded in this assembly.</summary>
public sealed record ContractArtifact(string ContractName, string Compiler, string Abi, string Bytecode, string DeployedBytecode)
{
    /// <summary>The reward ERC20.</summary>
    public static ContractArtifact RewardToken { get; } = Load("RewardToken");

    /// <summary>The cumulative Merkle distributor.</summary>
    public static ContractArtifact CumulativeMerkleDistributor { get; } = Load("CumulativeMerkleDistributor");

    /// <summary>Loads the embedded artifact <c>contracts/build/{name}.json</c>.</summary>
    public static ContractArtifact Load(string name)
    {
        var resource = $"DePin.Settlement.Contracts.{name}.json";
        using var stream = typeof(ContractArtifact).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded contract artifact '{resource}' not found; run `node contracts/compile.mjs`.");
        using var doc = JsonDocument.Parse(stream);
        var root = doc.RootElement;
        return new ContractArtifact(
            root.GetProperty("contractName").GetString()!,
            root.GetProperty("compiler").GetString()!,
            root.GetProperty("abi").GetRawText(),
            root.GetProperty("bytecode").GetString()!,
            root.GetProperty("deployedBytecode").GetString()!);
    }
}
