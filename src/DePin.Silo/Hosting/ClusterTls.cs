using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Orleans.Connections.Security;

namespace DePin.Silo.Hosting;

/// <summary>
/// Turns <see cref="ClusterTlsOptions"/> into Orleans' mutual TLS (Microsoft.Orleans.Connections.Security) on the silo
/// port (inbound and outbound) and the client gateway. Every problem with the configuration is a one-line
/// <see cref="SiloStartupException"/> naming the setting; the password never appears in one.
/// </summary>
internal static class ClusterTls
{
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    /// <summary>
    /// Requires a certificate from every peer on every silo and gateway connection, checked by
    /// <see cref="ClusterPeerValidator"/>. Returns false (nothing configured) for the explicit opt-out
    /// <c>Silo:Tls:Mode=Off</c>; fails when no certificate is configured otherwise.
    /// </summary>
    public static bool Configure(ISiloBuilder orleans, ClusterTlsOptions tls)
    {
        if (tls.Mode == ClusterTlsMode.Off) return false;
        if (string.IsNullOrWhiteSpace(tls.CertificatePath))
        {
            throw new SiloStartupException(
                "Silo:Tls:CertificatePath is not set: a Redis-backed cluster requires mutual TLS between silos and on the gateway " +
                "(mount the cluster certificate and set Silo:Tls:CertificatePath, see docs/cluster.md), or set Silo:Tls:Mode=Off " +
                "on a private development network only");
        }
        if (tls.HandshakeTimeout <= TimeSpan.Zero)
            throw new SiloStartupException($"Silo:Tls:HandshakeTimeout '{tls.HandshakeTimeout}' must be positive");

        var certificate = LoadCertificate(tls);
        var validator = new ClusterPeerValidator(certificate, LoadAuthorities(tls.CaPath));
        orleans.UseTls(certificate, o =>
        {
            o.RemoteCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.ClientCertificateMode = RemoteCertificateMode.RequireCertificate;
            o.RemoteCertificateValidation = validator.Validate;
            o.HandshakeTimeout = tls.HandshakeTimeout;
        });
        return true;
    }

    /// <summary>Loads <c>Silo:Tls:CertificatePath</c> (PKCS#12 or PEM) and checks it can authenticate both ends of a connection.</summary>
    internal static X509Certificate2 LoadCertificate(ClusterTlsOptions tls)
    {
        var path = tls.CertificatePath!;
        if (!File.Exists(path)) throw new SiloStartupException($"Silo:Tls:CertificatePath '{path}' does not exist");
        if (tls.KeyPath is { Length: > 0 } keyPath && !File.Exists(keyPath))
            throw new SiloStartupException($"Silo:Tls:KeyPath '{keyPath}' does not exist");

        X509Certificate2 certificate;
        try
        {
            certificate = IsPem(path)
                ? string.IsNullOrEmpty(tls.CertificatePassword)
                    ? X509Certificate2.CreateFromPemFile(path, tls.KeyPath)
                    : X509Certificate2.CreateFromEncryptedPemFile(path, tls.CertificatePassword, tls.KeyPath)
                : X509CertificateLoader.LoadPkcs12FromFile(path, tls.CertificatePassword);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            // The message of a wrong password or a corrupt file says so; it never contains the password.
            throw new SiloStartupException(
                $"Silo:Tls:CertificatePath '{path}' cannot be loaded (wrong Silo:Tls:CertificatePassword, or not a PKCS#12/PEM certificate with its key): {ex.Message}");
        }

        if (!certificate.HasPrivateKey)
            throw new SiloStartupException($"Silo:Tls:CertificatePath '{path}' holds no private key (give a PFX with its key, or the PEM key in Silo:Tls:KeyPath)");
        var now = DateTime.Now;
        if (now < certificate.NotBefore || now > certificate.NotAfter)
            throw new SiloStartupException($"Silo:Tls:CertificatePath '{path}' is not valid now (valid from {certificate.NotBefore:u} to {certificate.NotAfter:u})");
        var usages = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().SingleOrDefault()?.EnhancedKeyUsages;
        if (usages is not null && !(usages[ServerAuthOid] is not null && usages[ClientAuthOid] is not null))
            throw new SiloStartupException($"Silo:Tls:CertificatePath '{path}' must allow both serverAuth and clientAuth (extended key usage): every silo is a TLS server and client");
        return certificate;
    }

    /// <summary>The CA certificates in <c>Silo:Tls:CaPath</c> (PEM bundle or one DER certificate), or none when it is not set.</summary>
    internal static X509Certificate2Collection LoadAuthorities(string? caPath)
    {
        var authorities = new X509Certificate2Collection();
        if (string.IsNullOrWhiteSpace(caPath)) return authorities;
        if (!File.Exists(caPath)) throw new SiloStartupException($"Silo:Tls:CaPath '{caPath}' does not exist");
        try
        {
            if (IsPem(caPath)) authorities.ImportFromPemFile(caPath);
            else authorities.Add(X509CertificateLoader.LoadCertificateFromFile(caPath));
        }
        catch (CryptographicException ex)
        {
            throw new SiloStartupException($"Silo:Tls:CaPath '{caPath}' is not a PEM or DER certificate: {ex.Message}");
        }
        if (authorities.Count == 0) throw new SiloStartupException($"Silo:Tls:CaPath '{caPath}' holds no certificate");
        return authorities;
    }

    private static bool IsPem(string path)
    {
        using var reader = new StreamReader(path);
        var head = new char[4096];
        var read = reader.ReadBlock(head, 0, head.Length);
        return new string(head, 0, read).Contains("-----BEGIN", StringComparison.Ordinal);
    }
}
