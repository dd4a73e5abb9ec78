using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DePin.Cluster.Tests.Infrastructure;
using DePin.Silo.Hosting;

namespace DePin.Cluster.Tests;

/// <summary>Who counts as a cluster member on a TLS connection, with a shared self-signed certificate or a cluster CA.</summary>
public sealed class ClusterPeerValidatorTests
{
    // What SslStream reports for a self-signed or private-CA peer: the machine's trust store does not know it.
    private const SslPolicyErrors Untrusted = SslPolicyErrors.RemoteCertificateChainErrors | SslPolicyErrors.RemoteCertificateNameMismatch;

    [Fact]
    public void Without_a_CA_only_the_cluster_certificate_itself_is_accepted()
    {
        var cluster = ClusterCertificate.Shared.Certificate;
        var validator = new ClusterPeerValidator(cluster, []);

        Assert.True(validator.Validate(X509CertificateLoader.LoadCertificate(cluster.RawData), null, Untrusted));
        Assert.False(validator.Validate(ClusterCertificate.Create("depin-test-cluster").Certificate, null, Untrusted));
    }

    [Fact]
    public void With_a_CA_certificates_it_issued_are_accepted_and_others_are_not()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=depin-test-ca", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        X509Certificate2 Issue(string name)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
            using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), Guid.NewGuid().ToByteArray());
            return issued.CopyWithPrivateKey(key);
        }

        var silo = Issue("silo-a");
        var validator = new ClusterPeerValidator(silo, [X509CertificateLoader.LoadCertificate(ca.RawData)]);

        Assert.True(validator.Validate(Issue("silo-b"), null, Untrusted));
        Assert.False(validator.Validate(ClusterCertificate.Create("silo-b").Certificate, null, Untrusted));
        Assert.False(validator.Validate(silo, null, SslPolicyErrors.RemoteCertificateNotAvailable));
    }
}
