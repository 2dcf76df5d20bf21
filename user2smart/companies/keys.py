"""Print a new key for FIELD_ENCRYPTION_KEYS: `python -m user2smart.companies.keys`."""

from cryptography.fernet import Fernet

if __name__ == "__main__":
    print(Fernet.generate_key().decode())
