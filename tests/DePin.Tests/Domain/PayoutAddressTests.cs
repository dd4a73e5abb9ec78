using DePin.Abstractions;

namespace DePin.Tests.Domain;

/// <summary>The one payout-address rule of every boundary: well-formed, not zero, EIP-55 checksum when mixed case.</summary>
public sealed class PayoutAddressTests
{
    [Theory]
    [InlineData("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")] // EIP-55 (anvil dev account #1)
    [InlineData("0x70997970c51812dc3a010c7d01b50e0d17dc79c8")] // all lower case: no checksum to check
    [InlineData("0x70997970C51812DC3A010C7D01B50E0D17DC79C8")] // all upper case
    public void Accepted_and_normalised_to_lower_case(string address)
    {
        Assert.True(PayoutAddress.TryNormalize(address, out var normalized));
        Assert.Equal("0x70997970c51812dc3a010c7d01b50e0d17dc79c8", normalized);
    }

    [Theory]
    [InlineData("0x70997970C51812dc3A010C7d01b50e0d17dc79c8")] // one letter's case flipped: a typo the checksum catches
    [InlineData("0x0000000000000000000000000000000000000000")] // burns what is paid to it
    [InlineData("0x70997970c51812dc3a010c7d01b50e0d17dc79")] // short
    [InlineData("0x70997970c51812dc3a010c7d01b50e0d17dc79cg")] // not hex
    [InlineData("70997970c51812dc3a010c7d01b50e0d17dc79c8ab")] // no 0x
    [InlineData("")]
    [InlineData(null)]
    public void Refused(string? address) => Assert.False(PayoutAddress.TryNormalize(address, out _));
}
