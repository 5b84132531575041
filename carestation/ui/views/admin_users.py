"""The administrator's users screen: accounts, roles, stations, counsellor profiles and passwords."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.roles import Role
from carestation.domain.validation import MAX_NAME, MAX_TEXT
from carestation.domain.values import Actor, CounsellorProfile, Station, User, UserInput
from carestation.domain.vocab import CounsellorKind
from carestation.i18n import N_, _
from carestation.services.admin import AdminService
from carestation.ui.keyboard import enter_opens
from carestation.ui.prompts import Prompter
from carestation.ui.record_panel import FormDialog, RecordPanel, open_dialog, yes_no
from carestation.ui.table_model import Column, RecordTableModel
from carestation.ui.views.base import View, attempt

Index = QModelIndex | QPersistentModelIndex


def local_time(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment is not None else ""


def roles_text(roles: frozenset[Role]) -> str:
    return ", ".join(role.title for role in Role if role in roles)


def _password_edit() -> QLineEdit:
    return QLineEdit(echoMode=QLineEdit.EchoMode.Password)


def _passwords_differ(password: QLineEdit, confirm: QLineEdit) -> dict[str, str]:
    if password.text() == confirm.text():
        return {}
    return {"password_confirm": _("The two passwords differ; type the same password twice.")}


class UserFilter(QSortFilterProxyModel):
    """Sorts, and keeps the rows whose user name or display name contain the filter text."""

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        model, pattern = self.sourceModel(), self.filterRegularExpression()
        if not isinstance(model, RecordTableModel) or not pattern.pattern():
            return True
        user: User = model.row_value(source_row)
        return any(pattern.match(text).hasMatch() for text in (user.username, user.display_name))


class UserDialog(FormDialog):
    """Creates or edits an account; the service decides what is allowed."""

    def __init__(
        self,
        admin: AdminService,
        actor: Actor,
        prompter: Prompter,
        stations: Sequence[Station],
        user: User | None = None,
        parent: QWidget | None = None,
    ) -> None:
        title = _("New user") if user is None else _("Edit user")  # no names in window titles
        super().__init__(prompter, title, "user_dialog", parent)
        self._admin, self._actor, self._user = admin, actor, user
        self.username_edit = self.row(
            "username", _("User name"), QLineEdit(maxLength=32, readOnly=user is not None)
        )
        self.display_name_edit = self.row(
            "display_name", _("Display name"), QLineEdit(maxLength=MAX_NAME)
        )
        roles = self.row("roles", _("Roles"), QWidget(accessibleName=_("Roles")))
        roles_layout = QVBoxLayout(roles)
        roles_layout.setContentsMargins(0, 0, 0, 0)
        self.role_boxes: dict[Role, QCheckBox] = {}
        for role in Role:
            self.role_boxes[role] = QCheckBox(role.title, objectName=f"role_{role.value}")
            roles_layout.addWidget(self.role_boxes[role])
        self.station_list = self.row(
            "stations", _("Stations"), QListWidget(accessibleName=_("Stations"))
        )
        self._fill_stations(stations, user.station_ids if user else frozenset())
        self.counsellor_box = QGroupBox(_("Counsellor"), objectName="counsellor_box")
        self.form.addRow(self.counsellor_box)
        counsellor_form = QFormLayout(self.counsellor_box)
        self.kind_combo = self.row(
            "counsellor_kind",
            _("Kind"),
            QComboBox(placeholderText=_("Choose a kind")),
            counsellor_form,
        )
        for kind in CounsellorKind:
            self.kind_combo.addItem(kind.title, kind.value)
        self.kind_combo.setCurrentIndex(-1)  # a deliberate choice, not a silent default
        self.qualifications_edit = self.row(
            "qualifications", _("Qualifications"), QLineEdit(maxLength=MAX_TEXT), counsellor_form
        )
        self.languages_edit = self.row(
            "languages", _("Languages"), QLineEdit(maxLength=MAX_NAME), counsellor_form
        )
        self.password_edit: QLineEdit | None = None
        self.confirm_edit: QLineEdit | None = None
        if user is None:
            self.password_edit = self.row("password", _("Initial password"), _password_edit())
            self.confirm_edit = self.row(
                "password_confirm", _("Confirm password"), _password_edit()
            )
        self.finish()
        counsellor = self.role_boxes[Role.COUNSELLOR]
        counsellor.toggled.connect(self.counsellor_box.setVisible)
        if user is not None:
            self._fill(user)
        self.counsellor_box.setVisible(counsellor.isChecked())

    def _fill_stations(self, stations: Sequence[Station], chosen: frozenset[int]) -> None:
        for station in stations:
            # An inactive station stays listed for a user who still has it, so saving keeps it.
            if not station.active and station.id not in chosen:
                continue
            text = station.name
            if not station.active:
                text = _("{name} (inactive)").format(name=station.name)
            item = QListWidgetItem(text, self.station_list)
            item.setData(Qt.ItemDataRole.UserRole, station.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            checked = station.id in chosen
            item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)

    def _fill(self, user: User) -> None:
        self.username_edit.setText(user.username)
        self.display_name_edit.setText(user.display_name)
        for role, box in self.role_boxes.items():
            box.setChecked(role in user.roles)
        if user.counsellor is not None:
            self.kind_combo.setCurrentIndex(self.kind_combo.findData(user.counsellor.kind.value))
            self.qualifications_edit.setText(user.counsellor.qualifications)
            self.languages_edit.setText(user.counsellor.languages)

    def station_items(self) -> dict[int, QListWidgetItem]:
        items = map(self.station_list.item, range(self.station_list.count()))
        return {int(item.data(Qt.ItemDataRole.UserRole)): item for item in items}

    def user_input(self) -> UserInput:
        roles = frozenset(role for role, box in self.role_boxes.items() if box.isChecked())
        stations = frozenset(
            station_id
            for station_id, item in self.station_items().items()
            if item.checkState() == Qt.CheckState.Checked
        )
        counsellor = None
        if Role.COUNSELLOR in roles and self.kind_combo.currentIndex() >= 0:
            counsellor = CounsellorProfile(
                kind=CounsellorKind(self.kind_combo.currentData()),
                qualifications=self.qualifications_edit.text().strip(),
                languages=self.languages_edit.text().strip(),
            )
        return UserInput(
            username=self.username_edit.text(),
            display_name=self.display_name_edit.text(),
            roles=roles,
            station_ids=stations,
            counsellor=counsellor,
        )

    def problems(self) -> dict[str, str]:
        if self.password_edit is None or self.confirm_edit is None:
            return {}
        return _passwords_differ(self.password_edit, self.confirm_edit)

    def save(self) -> User:
        if self._user is not None:
            return self._admin.update_user(
                actor=self._actor, user_id=self._user.id, data=self.user_input()
            )
        assert self.password_edit is not None
        return self._admin.create_user(
            actor=self._actor, data=self.user_input(), password=self.password_edit.text()
        )


class ResetPasswordDialog(FormDialog):
    """Sets a new password for a user who has forgotten theirs; also lifts a lock-out."""

    def __init__(
        self,
        admin: AdminService,
        actor: Actor,
        prompter: Prompter,
        user: User,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(prompter, _("Reset password"), "reset_password_dialog", parent)
        self._admin, self._actor, self._user = admin, actor, user
        whose = _("New password for {name} ({username}).")
        self.form.addRow(QLabel(whose.format(name=user.display_name, username=user.username)))
        self.password_edit = self.row("password", _("New password"), _password_edit())
        self.confirm_edit = self.row("password_confirm", _("Confirm password"), _password_edit())
        self.finish()

    def problems(self) -> dict[str, str]:
        return _passwords_differ(self.password_edit, self.confirm_edit)

    def save(self) -> User:
        self._admin.reset_password(
            actor=self._actor, user_id=self._user.id, new_password=self.password_edit.text()
        )
        return self._user


class UsersView(View):
    TITLE = N_("Users and roles")

    def __init__(
        self,
        admin: AdminService,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, objectName="users_view")
        self._admin, self._actor, self._prompter = admin, actor, prompter
        self._stations: list[Station] = []
        self._station_names: dict[int, str] = {}
        self._now = admin.clock.now()  # the service's clock decides who is still locked out
        model: RecordTableModel[User] = RecordTableModel(
            [
                Column(title=lambda: _("User name"), text=lambda u: u.username),
                Column(title=lambda: _("Display name"), text=lambda u: u.display_name),
                Column(title=lambda: _("Roles"), text=lambda u: roles_text(u.roles)),
                Column(title=lambda: _("Stations"), text=self._stations_text),
                Column(
                    title=lambda: _("Counsellor kind"),
                    text=lambda u: u.counsellor.kind.title if u.counsellor else "",
                ),
                Column(
                    title=lambda: _("Active"),
                    text=lambda u: yes_no(u.active),
                    sort_key=lambda u: u.active,
                ),
                Column(
                    title=lambda: _("Locked until"),
                    text=lambda u: local_time(u.locked_until) if self.is_locked(u) else "",
                    sort_key=lambda u: u.locked_until.timestamp() if self.is_locked(u) else 0.0,
                ),
                Column(
                    title=lambda: _("Last sign-in"),
                    text=lambda u: local_time(u.last_sign_in_at) or _("Never"),
                    sort_key=lambda u: u.last_sign_in_at.timestamp() if u.last_sign_in_at else 0.0,
                ),
            ]
        )
        self.filter_edit = QLineEdit(
            objectName="users_filter",
            placeholderText=_("Find by user name or display name"),
            accessibleName=_("Find users"),
            clearButtonEnabled=True,
        )
        self.users = RecordPanel(_("Users"), model, "users_table", UserFilter(self))
        self.users.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.filter_edit.textChanged.connect(self.users.proxy.setFilterFixedString)
        self.filter_edit.textChanged.connect(lambda _text: self.users.update_buttons())
        self.users.add_button(
            _("New user..."), "new_user", self.new_user, enabled_when=lambda _user: True
        )
        self.users.add_button(_("Edit..."), "edit_user", self.edit_user)
        self.users.add_button(_("Reset password..."), "reset_password", self.reset_password)
        self.users.add_button(
            _("Unlock"),
            "unlock_user",
            self.unlock_user,
            enabled_when=lambda u: u is not None and self.is_locked(u),
        )
        self.users.add_button("", "user_active", self.toggle_active, toggle=True)
        self.users.buttons.addStretch(1)
        self.users.table.doubleClicked.connect(self.edit_user)
        enter_opens(self.users.table)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.users)
        self.users.update_buttons()

    def is_locked(self, user: User) -> bool:
        return user.locked_until is not None and user.locked_until > self._now

    def _stations_text(self, user: User) -> str:
        return ", ".join(sorted(self._station_names.get(i, "?") for i in user.station_ids))

    def selected_user(self) -> User | None:
        return self.users.selected()

    def search_field(self) -> QWidget:
        return self.filter_edit

    def refresh(self) -> None:
        self.show_users(select_id=getattr(self.selected_user(), "id", None))

    def clear(self) -> None:
        self.filter_edit.clear()
        self._stations, self._station_names = [], {}
        self.users.set_rows([])

    def show_users(self, *, select_id: int | None) -> None:
        def load() -> tuple[list[Station], list[User]]:
            stations = self._admin.list_stations(actor=self._actor, include_inactive=True)
            return stations, self._admin.list_users(actor=self._actor, include_inactive=True)

        loaded = attempt(self, self._prompter, load)
        if loaded is not None:
            self._stations, self._now = loaded[0], self._admin.clock.now()
            self._station_names = {s.id: s.name for s in self._stations}
            self.users.set_rows(loaded[1], select_id=select_id)

    def _saved(self, user: User | None) -> None:
        self.show_users(select_id=user.id if user else None)

    def new_user(self) -> UserDialog:
        dialog = UserDialog(self._admin, self._actor, self._prompter, self._stations, parent=self)
        open_dialog(dialog, lambda: self._saved(dialog.saved))
        return dialog

    def edit_user(self) -> UserDialog | None:
        user = self.selected_user()
        if user is None:
            return None
        dialog = UserDialog(
            self._admin, self._actor, self._prompter, self._stations, user, parent=self
        )
        open_dialog(dialog, lambda: self._saved(dialog.saved))
        return dialog

    def reset_password(self) -> ResetPasswordDialog | None:
        user = self.selected_user()
        if user is None:
            return None
        dialog = ResetPasswordDialog(self._admin, self._actor, self._prompter, user, parent=self)
        open_dialog(dialog, lambda: self._saved(user))
        return dialog

    def unlock_user(self) -> None:
        user = self.selected_user()
        unlock = self._admin.unlock_user
        if user is not None and attempt(
            self, self._prompter, lambda: unlock(actor=self._actor, user_id=user.id)
        ):
            self._saved(user)

    def toggle_active(self) -> None:
        user = self.selected_user()
        if user is not None and self.users.toggle_selected(
            self._prompter,
            _("Deactivate user"),
            _("Deactivate the account {username}? It will no longer be able to sign in.").format(
                username=user.username
            ),
            lambda active: self._admin.set_user_active(
                actor=self._actor, user_id=user.id, active=active
            ),
        ):
            self._saved(user)
