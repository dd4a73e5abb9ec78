using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace DePin.Silo.Hosting;

/// <summary>
/// Decides whether the remote end of a silo or gateway connection belongs to the cluster: it presents the cluster's
/// own certificate (self-signed cluster certificate, no CA configured) or a certificate that chains to a configured
/// cluster CA. The TLS handshake has already proved the peer holds that certificate's private key. The machine's
/// trust store and host names play no part: a public CA does not make a peer a cluster member, and silos are reached
/// by pod IP. Usable by an Orleans client of the trusted core as <c>TlsOptions.RemoteCertificateValidation</c>.
/// </summary>
public sealed class ClusterPeerValidator
{
    private readonly X509Certificate2 _clusterCertificate;
    private readonly X509Certificate2Collection _authorities;

    /// <summary>
    /// <paramref name="clusterCertificate"/>: this end's certificate; <paramref name="authorities"/>: the cluster CA
    /// certificates, or empty to accept only <paramref name="clusterCertificate"/> itself.
    /// </summary>
    public ClusterPeerValidator(X509Certificate2 clusterCertificate, X509Certificate2Collection authorities)
    {
        _clusterCertificate = clusterCertificate;
        _authorities = authorities;
    }

    /// <summary>The <c>RemoteCertificateValidator</c> callback: true when the peer is a cluster member.</summary>
    public bool Validate(X509Certificate2 peer, X509Chain? chain, SslPolicyErrors errors)
    {
        if (peer is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable)) return false;
        var now = DateTime.Now;
        if (now < peer.NotBefore || now > peer.NotAfter) return false;
        if (_authorities.Count == 0)
            return peer.RawDataMemory.Span.SequenceEqual(_clusterCertificate.RawDataMemory.Span);

        using var clusterChain = new X509Chain();
        clusterChain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        clusterChain.ChainPolicy.CustomTrustStore.AddRange(_authorities);
        clusterChain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            // Intermediates the peer sent along (they must still lead to a configured CA).
            foreach (var element in chain.ChainElements.Skip(1)) clusterChain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        return clusterChain.Build(peer);
    }
}
