using DePin.Settlement.Keys;

namespace DePin.Settlement.Tests;

public class KeyTests
{
    [Fact]
    public void Keystore_with_password_from_file_and_environment()
    {
        var dir = Directory.CreateTempSubdirectory("depin-keys");
        try
        {
            var key = SettlerKey.Generate();
            var keystore = Path.Combine(dir.FullName, "settler.json");
            SettlerKeySource.WriteKeystore(key, "s3cret", keystore, scryptN: 1024);
            var passwordFile = Path.Combine(dir.FullName, "password");
            File.WriteAllText(passwordFile, "s3cret\n");
            Assert.Equal(key.Address, SettlerKeySource.FromKeystoreWithPasswordFile(keystore, passwordFile).Address);

            var variable = "DEPIN_TEST_KEYSTORE_PW_" + Guid.NewGuid().ToString("N");
            Environment.SetEnvironmentVariable(variable, "s3cret");
            Assert.Equal(key.Address, SettlerKeySource.Load(new SettlerKeyOptions { KeystorePath = keystore, PasswordEnvironmentVariable = variable }).Address);
            Environment.SetEnvironmentVariable(variable, "wrong");
            Assert.Throws<InvalidOperationException>(() => SettlerKeySource.FromKeystoreWithPasswordEnvironment(keystore, variable));
            Environment.SetEnvironmentVariable(variable, null);
            Assert.Contains("not set", Assert.Throws<InvalidOperationException>(() => SettlerKeySource.FromKeystoreWithPasswordEnvironment(keystore, variable)).Message);
            Assert.DoesNotContain(key.PrivateKeyHex[2..], key.ToString());
        }
        finally
        {
            dir.Delete(true);
        }
    }
}
