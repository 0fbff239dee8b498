// twisted-ts/cred: Portal, realms, checkers, credentials, password files and --auth strings.

export { AUTH_HELP, type ParseAuthStringOptions, parseAuthString } from "./_auth_string.js";
export {
  AllowAnonymousAccess,
  InMemoryUsernamePasswordDatabase,
  InMemoryUsernamePasswordDatabaseDontUse,
} from "./_checkers.js";
export {
  Anonymous,
  IAnonymous,
  type ICredentials,
  type InterfaceTag,
  IUsernameHashedPassword,
  type IUsernameHashedPasswordCredentials,
  IUsernamePassword,
  type IUsernamePasswordCredentials,
  interfaceName,
  passwordsEqual,
  providedBy,
  UsernameHashedPassword,
  UsernamePassword,
} from "./_credentials.js";
export {
  AuthStringError,
  InvalidPasswordHash,
  LoginDenied,
  LoginFailed,
  PasswordFileError,
  type PasswordFileProblem,
  UnauthorizedLogin,
  UnhandledCredentials,
} from "./_errors.js";
export {
  PASSWD_USAGE,
  type PasswdInput,
  type PasswdIO,
  passwdMain,
  removeUserFromFile,
  type SetPasswordOptions,
  setPasswordInFile,
} from "./_passwd_cli.js";
export {
  checkUsername,
  MAX_USERNAME_LENGTH,
  type ParsedPasswordFile,
  PasswordFileChecker,
  type PasswordFileCheckerOptions,
  type PasswordFileEntry,
  parsePasswordFile,
} from "./_password_file.js";
export {
  ANONYMOUS,
  type AvatarId,
  type ICredentialsChecker,
  type IRealm,
  type LoginResult,
  Portal,
  SimpleRealm,
  type SimpleRealmOptions,
} from "./_portal.js";
export {
  DEFAULT_SCRYPT_PARAMETERS,
  type HashPasswordOptions,
  hashPassword,
  type ParsedPasswordHash,
  parsePasswordHash,
  SCRYPT_SCHEME,
  type ScryptParameters,
  verifyPassword,
} from "./_scrypt.js";
