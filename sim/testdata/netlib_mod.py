WHO = 'a module from a file'
