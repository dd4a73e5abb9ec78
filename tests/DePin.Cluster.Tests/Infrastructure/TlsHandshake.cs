using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace DePin.Cluster.Tests.Infrastructure;

/// <summary>A bare TLS client on a silo's Orleans port: does the silo accept this certificate as a cluster member?</summary>
public static class TlsHandshake
{
    /// <summary>
    /// Connects, completes a TLS handshake presenting <paramref name="certificate"/> (any server certificate is fine),
    /// then reads: a refused certificate ends in a handshake error, an alert or end of stream (TLS 1.3 checks the
    /// client certificate after the client's side of the handshake is done); an accepted one leaves the connection
    /// open, waiting for the Orleans preamble, for <paramref name="quiet"/>.
    /// </summary>
    public static async Task<bool> AcceptedAsync(int port, X509Certificate2 certificate, TimeSpan quiet)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(IPAddress.Loopback, port);
        await using var ssl = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false);
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = "depin-silo",
                ClientCertificates = [certificate],
                RemoteCertificateValidationCallback = (_, _, _, _) => true,
            }).WaitAsync(TimeSpan.FromSeconds(10));
            var read = ssl.ReadAsync(new byte[1]).AsTask();
            if (await Task.WhenAny(read, Task.Delay(quiet)) != read) return true;
            return await read > 0;
        }
        catch (Exception ex) when (ex is AuthenticationException or IOException)
        {
            return false;
        }
    }
}
