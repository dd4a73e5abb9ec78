using System.Text.Json;
using DePin.Settlement.Contracts;
using Nethereum.Contracts;
using Nethereum.Util;

namespace DePin.Settlement.Tests;

public class ContractArtifactTests
{
    [Fact]
    public void Committed_artifacts_equal_a_fresh_solc_compile()
    {
        var result = Node.Run("contracts/compile.mjs --check", TimeSpan.FromSeconds(60));
        Assert.Contains("ok: contracts/build/CumulativeMerkleDistributor.json", result);
    }

    [Theory]
    [InlineData(typeof(PostRootFunction), "CumulativeMerkleDistributor")]
    [InlineData(typeof(ClaimFunction), "CumulativeMerkleDistributor")]
    [InlineData(typeof(PayBatchFunction), "CumulativeMerkleDistributor")]
    [InlineData(typeof(LastEpochFunction), "CumulativeMerkleDistributor")]
    [InlineData(typeof(EpochRootFunction), "CumulativeMerkleDistributor")]
    [InlineData(typeof(ClaimedFunction), "CumulativeMerkleDistributor")]
    [InlineData(typeof(FundFunction), "CumulativeMerkleDistributor")]
    [InlineData(typeof(TotalFundedFunction), "CumulativeMerkleDistributor")]
    [InlineData(typeof(MintFunction), "RewardToken")]
    [InlineData(typeof(BalanceOfFunction), "RewardToken")]
    public void Typed_messages_match_the_abi(Type message, string contract)
    {
        var abi = JsonDocument.Parse(ContractArtifact.Load(contract).Abi).RootElement;
        var attr = (Nethereum.ABI.FunctionEncoding.Attributes.FunctionAttribute)Attribute.GetCustomAttribute(message, typeof(Nethereum.ABI.FunctionEncoding.Attributes.FunctionAttribute))!;
        var props = message.GetProperties()
            .Select(p => (p, a: (Nethereum.ABI.FunctionEncoding.Attributes.ParameterAttribute?)Attribute.GetCustomAttribute(p, typeof(Nethereum.ABI.FunctionEncoding.Attributes.ParameterAttribute))))
            .Where(x => x.a is not null).OrderBy(x => x.a!.Order).Select(x => x.a!.Type);
        var signature = $"{attr.Name}({string.Join(",", props)})";
        var abiSignatures = abi.EnumerateArray().Where(e => e.GetProperty("type").GetString() == "function")
            .Select(e => $"{e.GetProperty("name").GetString()}({string.Join(",", e.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("type").GetString()))})");
        Assert.Contains(signature, abiSignatures);
    }
}
