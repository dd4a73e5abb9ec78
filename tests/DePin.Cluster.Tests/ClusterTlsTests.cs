using DePin.Cluster.Tests.Infrastructure;

namespace DePin.Cluster.Tests;

/// <summary>One Redis-backed silo process with mutual TLS, shared by the gateway tests below.</summary>
public sealed class TlsSiloFixture : IAsyncLifetime
{
    /// <summary>The cluster (Redis with a password, one api silo logging at Information).</summary>
    public LocalCluster Cluster { get; private set; } = null!;

    /// <summary>The silo.</summary>
    public SiloProcess Silo => Cluster.Silos[0];

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        Cluster = await LocalCluster.StartRedisOnlyAsync(new NullOutput());
        // Information level, so the start-up lines Orleans and the host log are there to be searched for secrets.
        await Cluster.AddSiloAsync("tls", "api", new Dictionary<string, string> { ["Logging:LogLevel:Default"] = "Information" });
    }

    /// <inheritdoc />
    public async Task DisposeAsync() => await Cluster.DisposeAsync();

    private sealed class NullOutput : ITestOutputHelper
    {
        public void WriteLine(string message) { }
        public void WriteLine(string format, params object[] args) { }
    }
}

/// <summary>
/// The trusted core is closed to outsiders: an Orleans client reaches a Redis-backed silo's gateway only with the
/// cluster certificate. Real silo process and redis-server on 127.0.0.1.
/// </summary>
public sealed class ClusterTlsTests(TlsSiloFixture fixture, ITestOutputHelper output) : IClassFixture<TlsSiloFixture>
{
    // Bounds only: a member connects in about a second, and an outsider's single connection attempt fails at once.
    private static readonly TimeSpan Connects = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Refused = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Client_with_the_cluster_certificate_connects_and_calls_a_grain()
    {
        var failure = await GatewayClient.TryCallAsync(fixture.Silo, fixture.Cluster.ClusterId, GatewayTls.ClusterMember, ClusterCertificate.Shared.Certificate, Connects);
        Assert.True(failure is null, $"the cluster certificate's client failed: {failure}\n{fixture.Silo.Tail()}");
    }

    [Theory]
    [InlineData(GatewayTls.None)]                // a stock Orleans client, plain TCP
    [InlineData(GatewayTls.NoClientCertificate)] // TLS, but no certificate to present
    public async Task Client_without_a_certificate_cannot_call_any_grain(GatewayTls tls)
    {
        var failure = await GatewayClient.TryCallAsync(fixture.Silo, fixture.Cluster.ClusterId, tls, null, Refused);
        output.WriteLine($"{tls}: {failure}");
        Assert.NotNull(failure);
        Assert.StartsWith("connect failed: ConnectionFailedException", failure);
        Assert.False(fixture.Silo.HasExited, fixture.Silo.Tail());
    }

    [Fact]
    public async Task Client_with_another_self_signed_certificate_is_refused()
    {
        var outsider = ClusterCertificate.Create("depin-test-cluster"); // same subject, different key
        var failure = await GatewayClient.TryCallAsync(fixture.Silo, fixture.Cluster.ClusterId, GatewayTls.Certificate, outsider.Certificate, Refused);
        output.WriteLine($"other certificate: {failure}");
        Assert.NotNull(failure);
        Assert.StartsWith("connect failed: ConnectionFailedException", failure);
    }

    [Fact]
    public async Task Silo_port_accepts_the_cluster_certificate_and_refuses_another()
    {
        var quiet = TimeSpan.FromSeconds(1);
        Assert.False(await TlsHandshake.AcceptedAsync(fixture.Silo.SiloPort, ClusterCertificate.Create("depin-test-cluster").Certificate, TimeSpan.FromSeconds(20)),
            "the silo port accepted a certificate that is not the cluster's");
        Assert.True(await TlsHandshake.AcceptedAsync(fixture.Silo.SiloPort, ClusterCertificate.Shared.Certificate, quiet),
            "the silo port refused the cluster certificate");
    }

    [Fact]
    public void Silo_output_shows_neither_the_redis_password_nor_the_certificate_password()
    {
        Assert.Contains("Orleans", fixture.Silo.Log); // it did log at Information
        Assert.DoesNotContain(fixture.Cluster.Redis.Password, fixture.Silo.Log);
        Assert.DoesNotContain(ClusterCertificate.Shared.Password, fixture.Silo.Log);
    }
}
