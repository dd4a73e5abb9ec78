using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace DePin.Cluster.Tests.Infrastructure;

/// <summary>
/// A self-signed cluster certificate made at test time (ECDSA P-256, serverAuth + clientAuth), written as a
/// password-protected PFX to a temporary directory: what a mounted Kubernetes Secret gives a silo.
/// </summary>
public sealed class ClusterCertificate
{
    private static readonly Lazy<ClusterCertificate> SharedCertificate = new(() => Create("depin-test-cluster"));

    private ClusterCertificate(X509Certificate2 certificate, string pfxPath, string password)
    {
        Certificate = certificate;
        PfxPath = pfxPath;
        Password = password;
    }

    /// <summary>The certificate every test silo gets unless a test says otherwise.</summary>
    public static ClusterCertificate Shared => SharedCertificate.Value;

    /// <summary>The certificate with its private key (for an Orleans client in the test process).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>Path of the PFX file (<c>Silo:Tls:CertificatePath</c>).</summary>
    public string PfxPath { get; }

    /// <summary>Password of the PFX file (<c>Silo:Tls:CertificatePassword</c>).</summary>
    public string Password { get; }

    /// <summary>The silo settings that make a silo use this certificate.</summary>
    public Dictionary<string, string> SiloSettings => new()
    {
        ["Silo:Tls:CertificatePath"] = PfxPath,
        ["Silo:Tls:CertificatePassword"] = Password,
    };

    /// <summary>Makes a new self-signed certificate and its PFX file.</summary>
    public static ClusterCertificate Create(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={subject}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(
            [new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false)); // serverAuth, clientAuth
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(subject);
        request.CertificateExtensions.Add(san.Build());
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));

        var password = "pfx-" + Guid.NewGuid().ToString("N");
        var dir = Directory.CreateTempSubdirectory("depin-tls-").FullName;
        var path = Path.Combine(dir, subject + ".pfx");
        File.WriteAllBytes(path, created.Export(X509ContentType.Pfx, password));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, recursive: true); } catch (IOException) { } };
        return new ClusterCertificate(X509CertificateLoader.LoadPkcs12FromFile(path, password), path, password);
    }
}
