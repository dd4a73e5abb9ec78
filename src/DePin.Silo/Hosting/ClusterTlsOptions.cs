namespace DePin.Silo.Hosting;

/// <summary>Whether a Redis-backed cluster runs its silo and gateway connections over mutual TLS.</summary>
public enum ClusterTlsMode
{
    /// <summary>Mutual TLS; start-up fails when no cluster certificate is configured (the default).</summary>
    Mutual,

    /// <summary>Plain TCP: anyone who reaches a silo or gateway port can call any grain. Private dev networks only.</summary>
    Off,
}

/// <summary>
/// Mutual TLS of the trusted core, bound from <c>Silo:Tls</c> (only read when <c>Silo:Redis</c> is set: the embedded
/// default stays plain on 127.0.0.1). Every silo presents the cluster certificate on silo-to-silo and gateway
/// connections and accepts a peer (silo or Orleans client) only if it presents the same certificate or, with
/// <see cref="CaPath"/>, one issued by that CA. Host names are not checked: possession of the cluster key is the identity.
/// </summary>
public sealed class ClusterTlsOptions
{
    /// <summary><see cref="ClusterTlsMode.Mutual"/> (default) or <see cref="ClusterTlsMode.Off"/> (explicit insecure opt-out).</summary>
    public ClusterTlsMode Mode { get; set; } = ClusterTlsMode.Mutual;

    /// <summary>
    /// This silo's certificate: a PKCS#12 file (<c>.pfx</c>/<c>.p12</c>, with its key) or a PEM certificate
    /// (<c>.pem</c>/<c>.crt</c>, key in the same file or in <see cref="KeyPath"/>). In Kubernetes, a mounted Secret.
    /// It must hold the private key and allow both serverAuth and clientAuth (or carry no extended key usage).
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key of <see cref="CertificatePath"/> when it is not in the certificate file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>Password of the PKCS#12 file or of an encrypted PEM key (from a Secret). Never logged.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>
    /// Optional PEM/DER file of the cluster CA certificate(s). Set: a peer's certificate must chain to one of them
    /// (each silo may have its own certificate). Empty: a peer must present exactly this silo's certificate
    /// (one self-signed certificate shared by the cluster).
    /// </summary>
    public string? CaPath { get; set; }

    /// <summary>How long a TLS handshake may take before the connection is dropped.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
