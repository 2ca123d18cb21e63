from shebao.web.nav import NavSection

SECTIONS: list[NavSection] = []
