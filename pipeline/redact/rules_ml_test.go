package redact

// Fake keys of the formats an ML engineer meets, shaped like the real
// thing (random characters, right prefix and length).
const (
	googleKey     = "AIzaPtYgjmUhBel31iEl2hpChYgCfrL1spNxnyV"
	stripeKey     = "sk_live_gJTeKdNnFRIBXuDL7DxtpYlS"
	stripeRKey    = "rk_test_XpfKtHF4vUCsMehGAkWvj7FA"
	stripeWebhook = "whsec_c9QeWJKY40uvSwMFLZDe1f8rESQedUSt"
	azureKey      = "5KXSc7Tvo/hBKqFYY/kv5ZJr3J1TWDtkwtDDb+xHKas1VOqg6YYZYn9ZhyiA4uoRgnatmUdjAWtGSU8po+799N=="
	azureSig      = "fjgVvVqE1SkHbn88HxjSI6bWHtP3fS2qHx6kwXoIIXG%3D"
	hfToken       = "hf_vOoNZYW2mZp0zVZomHFwUbbYrEqmSM9wCZ"
	anthropicKey  = "sk-ant-api03-SUkCnD8zRA9a9SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5rAA"
	openaiKey     = "sk-proj-1pY4OjE2jBMptUsGr7CmY_uCu3ZR1zTOlUcR64cXQLioDnkH"
	openaiOldKey  = "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"
	wandbKey40    = "827283e0ad84173581569969e58b081006f7e3df"
	npmToken      = "npm_I14zGtSnovm14TUOizwd1iaeOV4qBkdfQ1y3"
	pypiToken     = "pypi-AgEIcHlwaS5vcmcKFLf6xuI5aHUQPFeNBTxaQWk8JzFalHlsZfYcMMDktXP-tKsf2rcDkdfrUnW"
	sendgridKey   = "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"
	databricksPAT = "dapi83b7ffc050fec94dbca3a0aac36098b2"
)

func init() { ruleCases = append(ruleCases, mlRuleCases...) }

// mlRuleCases: each detector of issue 7 point 3 masks its kind, and
// leaves look-alikes alone.
var mlRuleCases = []struct{ rule, in, want string }{
	{"google-api-key", "maps client with " + googleKey + " in it", "maps client with " + m("google-api-key") + " in it"},
	{"google-api-key", "GOOGLE_API_KEY=" + googleKey, "GOOGLE_API_KEY=" + m("google-api-key")},
	{"google-api-key", "AIzaShortValue is not a key", ""},

	{"stripe-key", `stripe.api_key = "` + stripeKey + `"`, `stripe.api_key = "` + m("stripe-key") + `"`},
	{"stripe-key", "restricted " + stripeRKey + " and hook " + stripeWebhook, "restricted " + m("stripe-key") + " and hook " + m("stripe-key")},
	{"stripe-key", "the sk_live_ prefix and pk_live_abcdefghijklmnop are not secret", ""},

	{"azure-storage-key", "DefaultEndpointsProtocol=https;AccountName=mlstore;AccountKey=" + azureKey + ";EndpointSuffix=core.windows.net",
		"DefaultEndpointsProtocol=https;AccountName=mlstore;AccountKey=" + m("azure-storage-key") + ";EndpointSuffix=core.windows.net"},
	{"azure-storage-key", "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=" + azureKey[:43] + "=",
		"Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;SharedAccessKey=" + m("azure-storage-key")},
	{"azure-storage-key", "AccountKey=<your storage key>", ""},

	{"azure-sas", "https://mlstore.blob.core.windows.net/data/train.csv?sv=2022-11-02&sp=r&se=2026-12-31T00:00:00Z&sig=" + azureSig,
		"https://mlstore.blob.core.windows.net/data/train.csv?sv=2022-11-02&sp=r&se=2026-12-31T00:00:00Z&sig=" + m("azure-sas")},
	{"azure-sas", "?sig=" + azureSig + "&sv=2022", "?sig=" + m("azure-sas") + "&sv=2022"},
	{"azure-sas", "the sig=short value and --sig=abcdefghijklmnopqrstuv", ""},

	{"huggingface-token", "HF_TOKEN=" + hfToken, "HF_TOKEN=" + m("huggingface-token")},
	{"huggingface-token", "huggingface-cli login --token " + hfToken + " --add", "huggingface-cli login --token " + m("huggingface-token") + " --add"},
	{"huggingface-token", "from huggingface_hub import hf_hub_download, hf_api", ""},

	{"anthropic-key", "export ANTHROPIC_API_KEY=" + anthropicKey, "export ANTHROPIC_API_KEY=" + m("anthropic-key")},
	{"anthropic-key", "keys look like sk-ant-api03-…", ""},

	{"openai-key", `client = OpenAI(api_key="` + openaiKey + `")`, `client = OpenAI(api_key="` + m("openai-key") + `")`},
	{"openai-key", "old key " + openaiOldKey + " rotated", "old key " + m("openai-key") + " rotated"},
	{"openai-key", "use sk-learn-compatible-estimators-everywhere", ""},

	{"wandb-key", "wandb login " + wandbKey40, "wandb login " + m("wandb-key")},
	{"wandb-key", "$ wandb login --relogin --host https://wandb.corp.example " + wandbKey40 + "\nok", "$ wandb login --relogin --host https://wandb.corp.example " + m("wandb-key") + "\nok"},
	{"wandb-key", "WANDB_API_KEY=" + wandbKey40, "WANDB_API_KEY=" + m("wandb-key")},
	{"wandb-key", `wandb.login(key="` + wandbKey40 + `")`, `wandb.login(key="` + m("wandb-key") + `")`},
	{"wandb-key", "wandb login --anonymously, then wandb sync " + sha, ""},

	{"npm-token", "//registry.npmjs.org/:_authToken=" + npmToken, "//registry.npmjs.org/:_authToken=" + m("npm-token")},
	{"npm-token", "token " + npmToken + " in CI", "token " + m("npm-token") + " in CI"},
	{"npm-token", "npm_config_cache=/tmp/npm-cache", ""},

	{"pypi-token", "password = " + pypiToken, "password = " + m("pypi-token")},
	{"pypi-token", "twine upload -p " + pypiToken + " dist/*", "twine upload -p " + m("pypi-token") + " dist/*"},
	{"pypi-token", "tokens start pypi-AgEIcHlwaS5vcmc", ""},

	{"sendgrid-key", "SENDGRID_API_KEY=" + sendgridKey, "SENDGRID_API_KEY=" + m("sendgrid-key")},
	{"sendgrid-key", "alert via " + sendgridKey + ".", "alert via " + m("sendgrid-key") + "."},
	{"sendgrid-key", "SG.short.value and SG.Region", ""},

	{"databricks-token", "DATABRICKS_TOKEN=" + databricksPAT, "DATABRICKS_TOKEN=" + m("databricks-token")},
	{"databricks-token", "use " + databricksPAT + " here", "use " + m("databricks-token") + " here"},
	{"databricks-token", "the dapi endpoint and dapi1234", ""},

	{"mysql-password", "mysql -u root -pS3cr3tPw feature_store", "mysql -u root -p" + m("mysql-password") + " feature_store"},
	{"mysql-password", "mysqldump -h db -p'pa ss' prod > dump.sql", "mysqldump -h db -p'" + m("mysql-password") + "' prod > dump.sql"},
	{"mysql-password", "mysql -u root -p feature_store; tar -pxf model.tar", ""},

	{"secret-assignment", "DB_PASS=hunter2hunter2", "DB_PASS=" + m("secret-assignment")},
	{"secret-assignment", "env:\n  HF_TOKEN_RO: abcdef123\n", "env:\n  HF_TOKEN_RO: " + m("secret-assignment") + "\n"},
	{"secret-assignment", `client_secret_value = "s3cr3t-v4lue"`, `client_secret_value = "` + m("secret-assignment") + `"`},
	{"secret-assignment", "AZURE_STORAGE_KEY=abc123XYZ789 MLFLOW_TRACKING_PASSWORD=pw0rd", "AZURE_STORAGE_KEY=" + m("secret-assignment") + " MLFLOW_TRACKING_PASSWORD=" + m("password-assignment")},
	{"secret-assignment", "DBPASS=hunter2hunter2", "DBPASS=" + m("secret-assignment")},
	{"secret-assignment", "PASSWORD_FILE=/run/secrets/db monkey=banana DB_PASS_LENGTH=12 sort_key: id", ""},
	{"secret-assignment", "API_KEY_ID=${KEY} primary_key=True", ""},

	{"aws-secret-key", "creds for the bucket:\n" + awsSecret + "\nend", "creds for the bucket:\n" + m("aws-secret-key") + "\nend"},
	{"aws-secret-key", "  " + awsSecret + "  \r\n", "  " + m("aws-secret-key") + "  \r\n"},
	{"aws-secret-key", sha + "\n" + sha + "\n", ""},

	{"email", "Co-authored-by: Bob Smith <bob.smith@example.org>", "Co-authored-by: Bob Smith <" + m("email") + ">"},
	{"email", "cc priya+ml@data.corp.example, ", "cc " + m("email") + ", "},
	{"email", "Signed-off-by: Jane Doe <JANE@corp.example> git@github.com:org/repo.git https://user@host.example.com/x @property numpy@1.26.4", ""},
}
